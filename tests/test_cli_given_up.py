"""``difytui invoke`` (streamed) given up before Dify named the task: the run must not go on.

Ctrl+C lands while the simulator holds the run before its first event (``hold`` fault, after=0):
the test waits on the simulator's record (``held_tasks``), never on the clock. The request and the
first event are read on a thread of their own (difytui.opening), so wherever the signal lands, in
the wait for the response's head or for the first event, the read goes on and names the task.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from helpers import waiting_late

from difytui.cli import main


def until_held(sim) -> None:
    """Until the simulator holds the run before its first event (its record, not the clock)."""
    for _ in range(3000):  # the bound is only for a broken build
        if sim.held_tasks:
            return
        time.sleep(0.01)


def ctrl_c_once_held(sim) -> threading.Thread:
    def press() -> None:
        until_held(sim)
        os.kill(os.getpid(), signal.SIGINT)  # nothing has named the task yet…
        sim.release_holds(1)  # …and now its first event comes

    thread = threading.Thread(target=press, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("mode", "said"), [("streamed", "stopping task"), ("--blocking", "stopped task")])
def test_ctrl_c_before_a_runs_first_event_still_stops_it(capsys, config, sim, mode, said):
    """Streamed: difytui invoke reads the start on its own thread; --blocking: the library does."""
    sim.add_fault("/v1/workflows/run", "hold", after=0)
    ctrl_c_once_held(sim)
    blocking = ["--blocking"] if mode == "--blocking" else []
    code = main(["--config", config, "invoke", "report-builder", "-i", "topic=x", *blocking])
    out, err = capsys.readouterr()
    assert code == 130 and out == "", err
    assert len(sim.stopped_tasks) == 1, err
    assert f"interrupted; {said} {sim.stopped_tasks[0]}" in err and "Traceback" not in err


def test_a_read_timeout_before_the_first_event_says_the_run_may_still_be_going(capsys, config, sim):
    """Nothing names the task, and httpx has closed the connection: the run cannot be stopped, and
    the error says so. The short timeout is the run's alone (--timeout)."""
    sim.add_fault("/v1/chat-messages", "hold", after=0, seconds=3600)
    code = main(["--config", config, "invoke", "support-bot", "-q", "hi", "--timeout", "0.5"])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and "Traceback" not in err
    assert "timed out" in err and "could not be stopped: it may still be running on the server" in err
    assert sim.stopped_tasks == []


def test_a_second_ctrl_c_ends_the_wait_for_the_task(capsys, config, sim, monkeypatch):
    from difytui import streams

    monkeypatch.setattr(streams, "TASK_ID_WAIT", 3600.0)  # were it waited out, the test would time out
    waiting = waiting_late(monkeypatch)

    def twice() -> None:
        until_held(sim)
        os.kill(os.getpid(), signal.SIGINT)
        waiting.wait(60)  # the first one was handled: the main thread waits for the first event
        os.kill(os.getpid(), signal.SIGINT)

    sim.add_fault("/v1/workflows/run", "hold", after=0, seconds=3600)  # no first event comes
    threading.Thread(target=twice, daemon=True).start()
    code = main(["--config", config, "invoke", "report-builder", "-i", "topic=x"])
    out, err = capsys.readouterr()
    assert code == 130 and out == "" and "Traceback" not in err and sim.stopped_tasks == []
    assert "interrupted before Dify named the task; it may still finish on the server" in err
