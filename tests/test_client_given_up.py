"""A blocking run given up before its first event is still stopped on the server.

Only the run's first event names its task, so the client reads it after giving up, for a short
while. The simulator holds each run before that event (a ``hold`` fault at 0) until the test has
given the call up, then lets exactly one event through and holds the run again: the stop, if the
client sends one, reaches a run still going, however slow the machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from helpers import waiting_late

from difytui import RunInterrupted, streams
from difytui.client import AsyncDify, Dify

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
    sim.add_fault("/v1/workflows/run", "hold", after=0, seconds=3600)  # no first event comes
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


def wait_held(sim) -> None:
    for _ in range(3000):  # the bound is only for a broken build
        if sim.held_tasks:
            return
        time.sleep(0.01)


def sync_blocking_run(sim, then: Callable[[], None]) -> None:
    """A blocking workflow run with Dify; ``then`` runs on a thread once the run is held."""

    def once_held() -> None:
        wait_held(sim)
        then()

    with Dify(sim.base_url, sim.apps_config(), "tester") as dify:
        threading.Thread(target=once_held, daemon=True).start()
        dify.app.workflow.invoke("report-builder", RUNS[0][3][0], response_mode="blocking")


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)  # Linux hands it to the main thread: the test's


def test_ctrl_c_before_a_blocking_runs_first_event_still_stops_it_with_the_sync_client(sim):
    def ctrl_c_then_release() -> None:
        ctrl_c()  # the main thread waits for the run's first event; only now it comes
        sim.release_holds(1)

    sim.add_fault("/v1/workflows/run", "hold", after=0)
    with pytest.raises(RunInterrupted) as caught:
        sync_blocking_run(sim, ctrl_c_then_release)
    assert caught.value.stopped and sim.stopped_tasks == [caught.value.task_id]


def test_with_the_sync_client_a_second_ctrl_c_ends_the_wait_for_the_first_event(sim, monkeypatch):
    from difytui import sync_client

    monkeypatch.setattr(sync_client, "TASK_ID_WAIT", 3600.0)  # were it waited out, the test would time out
    waiting = waiting_late(monkeypatch)

    def twice() -> None:
        ctrl_c()
        waiting.wait(60)  # the first one was handled: the main thread waits for the first event
        ctrl_c()

    sim.add_fault("/v1/workflows/run", "hold", after=0, seconds=3600)  # no first event comes
    with pytest.raises(KeyboardInterrupt):
        sync_blocking_run(sim, twice)
    assert waiting.is_set() and sim.stopped_tasks == []


def test_a_run_start_that_comes_after_the_wait_is_closed_when_it_comes():
    from difytui.opening import Opening

    go, discarded = threading.Event(), []
    closed = threading.Event()

    def start() -> str:
        go.wait(60)
        return "the stream"

    def discard(value: str) -> None:
        discarded.append(value)
        closed.set()

    opening = Opening(start, discard)
    opening.begin()
    assert opening.late(0.0) is None  # given up: nobody will read what start gives
    go.set()
    assert closed.wait(60) and discarded == ["the stream"]


async def test_a_read_timeout_before_the_first_event_says_the_run_cannot_be_stopped(sim):
    """httpx closes the connection on a read timeout, so nothing will name the task: the error must
    not read as if the run were over (the CLI's twin: tests/test_cli_given_up.py)."""
    from difytui import DifyConnectionError

    sim.add_fault("/v1/workflows/run", "hold", after=0, seconds=3600)
    async with AsyncDify(sim.base_url, sim.apps_config(), "tester", timeout=0.5) as dify:
        stream = dify.app.workflow.invoke("report-builder", RUNS[0][3][0])
        with pytest.raises(DifyConnectionError) as caught:
            async for _event in stream:
                pass
    assert caught.value.timed_out and stream.task_id is None and sim.stopped_tasks == []
    assert "could not be stopped: it may still be running on the server" in str(caught.value)


def deadline_then_first_event(sim: Any, clock: Any, seconds: float) -> threading.Thread:
    """Once the simulator holds the run before its first event: the deadline passes (the clock is
    the test's), and only then that event goes out (the run is held again after it)."""

    def go() -> None:
        for _ in range(3000):  # the bound is only for a broken build
            if sim.held_tasks:
                break
            time.sleep(0.01)
        clock.advance(seconds)
        sim.release_holds(1)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_deadline_before_the_first_event_still_gets_the_run_stopped_on_the_simulator(sim, kind):
    """Past the deadline a run not named yet is read TASK_ID_WAIT more (on the deadline's clock):
    its first event names the task, which is stopped (tests/faults/test_deadline.py: the same on
    scripted wires, and the wait running out)."""
    from difytui import DifyDeadlineError
    from tests.faults.clock import ManualClock

    clock = ManualClock()
    sim.add_fault("/v1/workflows/run", "hold", after=0, seconds=3600)
    args = ("report-builder", RUNS[0][3][0])
    mover = deadline_then_first_event(sim, clock, 60.0)
    with pytest.raises(DifyDeadlineError) as caught:
        if kind == "sync":
            with Dify(sim.base_url, sim.apps_config(), "tester", deadline=60.0, clock=clock) as dify:
                for _event in dify.app.workflow.invoke(*args):
                    pass
        else:

            async def read() -> None:
                client = AsyncDify(sim.base_url, sim.apps_config(), "tester", deadline=60.0, clock=clock)
                async with client as dify:
                    async for _event in dify.app.workflow.invoke(*args):
                        pass

            asyncio.run(read())
    mover.join()
    assert caught.value.stopped_task is not None and sim.stopped_tasks == [caught.value.stopped_task]
    assert "it was stopped on the server" in str(caught.value)
