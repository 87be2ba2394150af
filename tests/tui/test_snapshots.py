"""Snapshot tests (pytest-textual-snapshot): fixed terminal size, no cursor blink, a fake clock.

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after checking the report.
"""

from __future__ import annotations

import pytest

from difytui.tui import run_controller, runner

from .conftest import apps_loaded, ask, console, log_settled, open_app, run_done, type_text, wait_until

SIZE = (120, 36)


class FakeTime:
    """Monotonic time that advances 0.25 s per reading, so the stats line is the same every run."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        self.now += 0.25
        return self.now


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(runner, "time", clock)
    monkeypatch.setattr(run_controller, "time", clock)


async def settle(pilot) -> None:
    app = pilot.app
    for widget in app.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    # Answers render only the pieces near the viewport, and move that window after a frame: the
    # picture is taken once no window is moving (an answer at the top edge was caught blank).
    await log_settled(pilot, *app.query("ResponseLog"))


async def app_list(pilot) -> None:
    await apps_loaded(pilot, pilot.app)
    await settle(pilot)


async def chat_mid_conversation(pilot) -> None:
    app = pilot.app
    pane = await open_app(pilot, app, "support-bot")
    pane.prompt.focus()
    for question in ("How do I add an app?", "And where is my data?"):
        await type_text(pilot, question)
        await pilot.press("enter")
        await run_done(pilot, pane)
    await type_text(pilot, "one more thing")
    await settle(pilot)


async def workflow_with_timeline(pilot) -> None:
    app = pilot.app
    pane = await open_app(pilot, app, "report-builder")
    await type_text(pilot, "Terminal UIs")
    await pilot.press("ctrl+r")
    await run_done(pilot, pane)
    # Show the timeline (the run's top) rather than the end of the report.
    pane.log_view.release_anchor()
    pane.log_view.scroll_to_widget(pane.log_view.query_one(".timeline"), top=True, animate=False)
    await settle(pilot)


async def form_with_validation_errors(pilot) -> None:
    app = pilot.app
    pane = await open_app(pilot, app, "copywriter")
    pane.form.rows[0].control.value = "A name that is far too long for forty characters"
    await pilot.press("ctrl+r")
    await settle(pilot)


async def help_screen(pilot) -> None:
    await apps_loaded(pilot, pilot.app)
    await pilot.press("f1")
    await settle(pilot)


def test_app_list(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=SIZE, run_before=app_list)


def test_chat_mid_conversation(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=SIZE, run_before=chat_mid_conversation)


def test_workflow_with_timeline(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=SIZE, run_before=workflow_with_timeline)


def test_form_with_validation_errors(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=SIZE, run_before=form_with_validation_errors)


def test_help_screen(snap_compare, sim):
    assert snap_compare(
        console(sim, keymap={"app.run": "f5,ctrl+r"}), terminal_size=SIZE, run_before=help_screen
    )


async def agent_tool_call_unfolded(pilot) -> None:
    pane = await ask(pilot, pilot.app, "travel-agent", "Plan a weekend in Kyoto")
    pane.query_one(".agent-step CollapsibleTitle").focus()
    await pilot.press("enter")
    await settle(pilot)


def test_agent_tool_call_unfolded(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=SIZE, run_before=agent_tool_call_unfolded)


async def liked_answer(pilot) -> None:
    """An answer with its rating under it (issue 11's message actions)."""
    from difytui.tui.message_actions import AnswerBar

    pane = await ask(pilot, pilot.app, "support-bot", "How do I add an app?")
    bar = await wait_until(pilot, lambda: pane.log_view.query(AnswerBar).last(), what="the answer's bar")
    await pilot.press("alt+l")
    await wait_until(pilot, lambda: bar.rating == "like" and not bar.saving, what="the like")
    await settle(pilot)


def test_liked_answer_at_80x24(snap_compare, sim):
    assert snap_compare(console(sim), terminal_size=(80, 24), run_before=liked_answer)


SCREENS = {
    "app_list": app_list,
    "chat": chat_mid_conversation,
    "workflow": workflow_with_timeline,
    "form_errors": form_with_validation_errors,
    "help": help_screen,
}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_main_screens_at_size(snap_compare, sim, screen, size):
    """The smallest terminal a newcomer may have, and a large one (issue 10)."""
    assert snap_compare(console(sim), terminal_size=size, run_before=SCREENS[screen])
