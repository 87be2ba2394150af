"""Pilot helpers: a console on the simulator, and polling waits instead of fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from difytui.config import AppEntry, Workspace
from difytui.tui.app import DifyConsole

SIZE = (120, 40)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Local times shown as UTC: the same pictures on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def workspace_for(sim: Any, *, base_url: str | None = None, keys: dict[str, str] | None = None) -> Workspace:
    apps = {app_id: AppEntry.from_key(app_id, key) for app_id, key in (keys or sim.apps_config()).items()}
    return Workspace(name="demo", base_url=base_url or sim.base_url, user="tester", apps=apps, source="test")


def console(sim: Any, **kwargs: Any) -> DifyConsole:
    base_url = kwargs.pop("base_url", None)
    keys = kwargs.pop("keys", None)
    return DifyConsole(workspace_for(sim, base_url=base_url, keys=keys), **kwargs)


async def wait_until(pilot: Any, predicate: Callable[[], Any], what: str = "") -> Any:
    """Until ``predicate`` holds: recorded state, not the clock. A wait that never ends is a broken
    build, and pytest-timeout ends it with the stack of this wait (``what`` says what it was)."""
    while True:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.02)


async def log_settled(pilot: Any, *logs: Any) -> None:
    """Until no answer in ``logs`` renders or moves its pieces and no move is due, two frames in a
    row. The logs' state, not only the answers': after a scroll a log refreshes its windows after
    the next frame, and until then every answer looks settled (a flake under load)."""
    calm = 0
    while calm < 2:
        await pilot.pause()
        calm = calm + 1 if all(log.settled for log in logs) else 0


async def type_text(pilot: Any, text: str) -> None:
    names = {" ": "space", "/": "slash", "-": "minus", ".": "full_stop", ",": "comma", "?": "question_mark"}
    await pilot.press(*(names.get(c, c) for c in text))


async def apps_loaded(pilot: Any, app: DifyConsole) -> None:
    await wait_until(pilot, lambda: all(i.mode for i in app.app_items()), what="app list refresh")


async def open_app(pilot: Any, app: DifyConsole, app_id: str, typed: str | None = None) -> Any:
    """Keyboard only: ctrl+l focuses the filter (from anywhere), type (part of) the id, Enter opens
    it; waits for its form.

    By default only the id's first characters are typed (each key press costs a frame); the wait
    below fails loudly if they opened another app."""
    await apps_loaded(pilot, app)
    await pilot.press("ctrl+l")
    await type_text(pilot, typed or app_id[:4])
    await pilot.press("enter")
    pane = await wait_until(
        pilot,
        lambda: app.current_pane if app.current_pane and app.current_pane.item.id == app_id else None,
        what=f"{app_id} pane",
    )
    await wait_until(pilot, lambda: pane.form is not None, what="form")
    await pilot.pause()
    return pane


async def run_done(pilot: Any, pane: Any) -> None:
    await pilot.pause()
    await wait_until(pilot, lambda: pane.active is None, what="run to finish")
    from difytui.tui.widgets.response_log import AnswerView

    await wait_until(pilot, lambda: all(a.rendered for a in pane.log_view.query(AnswerView)), what="render")
    await pilot.pause()


async def ask(pilot: Any, app: DifyConsole, app_id: str, text: str) -> Any:
    """Open a chat app, send ``text`` from its prompt, wait for the answer; the pane."""
    pane = await open_app(pilot, app, app_id)
    pane.prompt.focus()
    await type_text(pilot, text)
    await pilot.press("enter")
    await run_done(pilot, pane)
    return pane


def requests_to(sim: Any, suffix: str) -> list[Any]:
    return [r for r in sim.requests if r.path.endswith(suffix) and r.method == "POST"]


@pytest.fixture
def slow_sim():
    """A simulator slow enough to stop mid-stream."""
    from difytui.sim import Simulator

    with Simulator(token_delay=0.05) as simulator:
        yield simulator


@pytest.fixture
def stalled_sim():
    """A simulator whose runs send their first event and then wait for a stop request.

    Stop tests use it so that the stop always reaches a running task: at ``slow_sim``'s pace a run
    can end on its own before a stop sent from a loaded machine arrives (and, before the simulator
    kept runs going after a hang-up, the client's disconnect could end it first)."""
    from difytui.sim import Simulator

    with Simulator(token_delay=3600.0) as simulator:
        yield simulator


def screen_text(app: Any) -> str:
    """The current screen as plain text (what a terminal would show, styles dropped)."""
    import io

    from rich.console import Console

    width, height = app.size
    out = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    out.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return out.export_text()
