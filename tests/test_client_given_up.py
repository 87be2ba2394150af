"""A blocking run given up before its first event is still stopped on the server (AsyncDify).

Only the run's first event names its task, so the client reads it after giving up, for a short
while. The simulator holds each run before that event (a ``hold`` fault at 0) until the test has
given the call up, then lets exactly one event through and holds the run again: the stop, if the
client sends one, reaches a run still going, however slow the machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from difytui import streams
from difytui.client import AsyncDify

#: (interface, app, its route, invoke's arguments after the app id)
RUNS: list[tuple[str, str, str, tuple[Any, ...]]] = [
    ("workflow", "report-builder", "/v1/workflows/run", ({"topic": "Streaming", "audience": "engineers"},)),
    ("chat", "support-bot", "/v1/chat-messages", ("hi", {"product": "difytui"})),
    ("completion", "copywriter", "/v1/completion-messages", ({"product_name": "p", "brief": "b"},)),
]


async def until(found: Callable[[], list[str]]) -> list[str]:
    """The simulator's recorded state, once there is some (the bound is only for a broken build)."""
    for _ in range(3000):
        if value := found():
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("the simulator never got there")


def blocking_call(dify: AsyncDify, interface: str, app: str, args: tuple[Any, ...]) -> asyncio.Task[Any]:
    invoke = getattr(dify.app, interface).invoke
    return asyncio.ensure_future(invoke(app, *args, response_mode="blocking"))


@pytest.mark.parametrize(("interface", "app", "route", "args"), RUNS, ids=[r[0] for r in RUNS])
async def test_a_blocking_run_cancelled_before_its_first_event_is_stopped_on_the_server(
    sim, interface, app, route, args
):
    sim.add_fault(route, "hold", after=0)
    async with AsyncDify(sim.base_url, sim.apps_config(), "tester") as dify:
        call = blocking_call(dify, interface, app, args)
        held = await until(lambda: sim.held_tasks)
        call.cancel()  # as a timeout or Ctrl+C does: nothing has named the task yet
        sim.release_holds(1)  # only now the first event goes out, then the run is held again
        with pytest.raises(asyncio.CancelledError):
            await call
    assert sim.stopped_tasks == held


async def test_a_first_event_that_never_comes_is_waited_for_a_short_while_only(sim, monkeypatch):
    monkeypatch.setattr(streams, "TASK_ID_WAIT", 0.01)
    sim.add_fault("/v1/workflows/run", "hold", after=0)
    async with AsyncDify(sim.base_url, sim.apps_config(), "tester") as dify:
        call = blocking_call(dify, "workflow", "report-builder", RUNS[0][3])
        await until(lambda: sim.held_tasks)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    assert sim.stopped_tasks == []  # nothing named the task: nothing to stop


async def test_a_second_cancel_ends_the_wait_for_the_first_event_at_once(sim, monkeypatch):
    monkeypatch.setattr(streams, "TASK_ID_WAIT", 3600.0)  # were it waited out, the test would time out
    sim.add_fault("/v1/workflows/run", "hold", after=0)
    async with AsyncDify(sim.base_url, sim.apps_config(), "tester") as dify:
        call = blocking_call(dify, "workflow", "report-builder", RUNS[0][3])
        await until(lambda: sim.held_tasks)
        call.cancel()
        # The cancel is delivered before this task runs again (asyncio runs callbacks in order):
        # the call is now reading its first event after giving up.
        await asyncio.sleep(0)
        assert not call.done()
        call.cancel()  # a second Ctrl+C
        with pytest.raises(asyncio.CancelledError):
            await call
    assert sim.stopped_tasks == []
