"""The optional overall run deadline, against answers that never end, drip, or stop at a gate.

Time here is a ManualClock (tests/faults/clock.py): the deadline passes when the test moves the
clock, once the server has recorded that it reached the point under test (a gate, a repeat, a
stall) and, where it matters, once the client has consumed the first event. So no outcome depends
on how fast a loaded machine runs; one real-clock test at the end checks the wiring to real time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from difytui import DifyDeadlineError, DifyError
from difytui.streams import TASK_ID_WAIT

from .clock import ManualClock
from .harness import Runner, judge_blocking, judge_error, run_streamed
from .server import Drip, FaultServer, Gate, Repeat, Stall, response
from .wire import CHAT_BLOCKING_BODY, F, S, T, block, canon, head

SSE = block(S) + block(T) + block(F)
ANSWER_WIRE = response(CHAT_BLOCKING_BODY)
HEAD = ANSWER_WIRE[: len(ANSWER_WIRE) - len(CHAT_BLOCKING_BODY)]
#: The clients' read timeout (real seconds): above the server's SAFETY_CAP, so a client that hangs
#: up before the server gives up (a "hung-up" note, not "capped") did so because of the deadline.
TIMEOUT = 60.0
#: The run deadline, in the ManualClock's seconds: nothing real ever waits for it. It is above
#: TIMEOUT, so the timeouts cut to it stay TIMEOUT.
DEADLINE = 120.0
STOP_PATH = "/workflows/tasks/t-1/stop"


@pytest.fixture(scope="module", params=["sync", "async"])
def deadline_runner(request: pytest.FixtureRequest, server: FaultServer) -> Iterator[Runner]:
    made = Runner(request.param, server, timeout=TIMEOUT, deadline=DEADLINE, clock=ManualClock())
    yield made
    made.close()


def at(server: FaultServer, action: str):
    """A wait (for ``ManualClock.advance_when``) until the server reached ``action`` of its script."""
    return lambda: server.wait(lambda: ("at", action) in server.notes)


def hung_up(server: FaultServer, where: str | None = None) -> bool:
    return server.wait(lambda: any(n[0] == "hung-up" and where in (None, n[1]) for n in server.notes))


def deadline_error(outcome, *, task: str | None, stopped: bool) -> list[str]:
    problems = judge_error(outcome)
    error = outcome.error
    if problems or not isinstance(error, DifyDeadlineError):
        return problems or [f"not a DifyDeadlineError: {error!r:.120}"]
    was_stopped = error.stopped_task is not None
    if error.task_id != task or was_stopped != stopped:
        problems.append(f"task {error.task_id!r} stopped {was_stopped} (expected {task!r}, {stopped})")
    if f"within its {DEADLINE:g} s deadline" not in str(error):
        problems.append(f"the message does not name the deadline: {error}")
    return problems


# -- answers that never end: the run is stopped on the server ------------------------------------

#: After the first event (the gate opens once the client consumed it), something that never ends
#: the run; the clock moves once the server is at the named action.
NEVER_ENDING = {
    "ping-forever": ([head(), block(S), Gate(), Repeat(b"event: ping\n\n", 0.02)], "repeat"),
    "comment-forever": ([head(), block(S), Gate(), Repeat(b": keep-alive\n\n", 0.02)], "repeat"),
    "byte-at-a-time": ([head(), block(S), Gate(), Drip(block(T) * 400, 0.01)], "drip"),
    "half-an-event": ([head(), block(S), Gate(), block(T)[:25], Stall()], "stall"),
}


@pytest.mark.parametrize("name", list(NEVER_ENDING))
def test_a_never_ending_stream_meets_the_deadline_and_the_run_is_stopped(deadline_runner, name):
    server, clock = deadline_runner.server, deadline_runner.client.clock
    script, action = NEVER_ENDING[name]
    server.serve(*script)
    mover = clock.advance_when(at(server, action), DEADLINE)
    outcome = deadline_runner.stream("wf", gate_after=1)
    assert mover.moved(), server.notes
    assert not deadline_error(outcome, task="t-1", stopped=True), outcome.describe()
    assert "stopped on the server" in str(outcome.error)
    # Only whole events: S, then any text chunks that fully arrived before the deadline.
    assert [canon(e) for e in outcome.events[:1]] == [canon(S)]
    assert all(canon(e) == canon(T) for e in outcome.events[1:]), outcome.describe()
    assert server.wait(lambda: [r.path for r in server.stops()] == ["/v1" + STOP_PATH]), server.requests
    assert hung_up(server), server.notes


def test_a_blocking_run_meets_the_deadline_and_is_stopped(deadline_runner):
    server, clock = deadline_runner.server, deadline_runner.client.clock
    server.serve(head(), block(S), Gate(), Repeat(b"event: ping\n\n", 0.02))
    mover = clock.advance_when(at(server, "repeat"), DEADLINE)
    outcome = deadline_runner.blocking("wf", gate_after=1)
    assert mover.moved(), server.notes
    assert not deadline_error(outcome, task="t-1", stopped=True), outcome.describe()
    assert [r.path for r in server.stops()] == ["/v1" + STOP_PATH]


# -- before the first event: read on a while for the task's name ----------------------------------


@pytest.mark.parametrize("call", ["blocking", "streaming"])
def test_a_deadline_before_the_first_event_reads_on_for_the_task_and_stops_it(deadline_runner, call):
    """Only the first event names the task: past the deadline the stream is read TASK_ID_WAIT more
    (on the same clock), and a first event that comes then still gets the run stopped."""
    server, clock = deadline_runner.server, deadline_runner.client.clock
    server.serve(head(), Gate(), block(S), Stall())

    def deadline_then_first_event() -> None:
        if at(server, "gate")():
            clock.advance(DEADLINE)  # the deadline passes before Dify named the task…
        server.open_gate()  # …and then its first event comes

    mover = threading.Thread(target=deadline_then_first_event, daemon=True)
    mover.start()
    outcome = deadline_runner.blocking("wf") if call == "blocking" else deadline_runner.stream("wf")
    mover.join()
    assert not deadline_error(outcome, task="t-1", stopped=True), outcome.describe()
    assert server.wait(lambda: [r.path for r in server.stops()] == ["/v1" + STOP_PATH]), server.requests


@pytest.mark.parametrize("call", ["blocking", "streaming"])
def test_a_deadline_before_the_first_event_then_no_event_says_the_run_may_go_on(deadline_runner, call):
    server, clock = deadline_runner.server, deadline_runner.client.clock
    server.serve(head(), Gate())
    mover = clock.advance_when(at(server, "gate"), DEADLINE + TASK_ID_WAIT)
    outcome = deadline_runner.blocking("wf") if call == "blocking" else deadline_runner.stream("wf")
    assert mover.moved(), server.notes
    assert not deadline_error(outcome, task=None, stopped=False), outcome.describe()
    assert outcome.events == []
    message = str(outcome.error)
    assert "could not be stopped" in message and "may still be running on the server" in message
    assert hung_up(server, "gate") and not server.stops(), server.notes


@pytest.mark.parametrize("call", ["blocking", "streaming"])
def test_a_dripping_head_is_cut_off_at_the_deadline_not_once_it_is_complete(deadline_runner, call):
    """Each byte would reset a read timeout: the deadline must end the wait for the head itself (a
    run's head is waited for TASK_ID_WAIT more, as its first event would name the task to stop)."""
    server, clock = deadline_runner.server, deadline_runner.client.clock
    wire = ANSWER_WIRE if call == "blocking" else head() + SSE
    server.serve(Drip(wire[:20], 0.01), Gate(), Drip(wire[20:], 0.01))
    mover = clock.advance_when(at(server, "gate"), DEADLINE + TASK_ID_WAIT)
    outcome = deadline_runner.blocking("chat") if call == "blocking" else deadline_runner.stream("wf")
    assert mover.moved(), server.notes
    assert not deadline_error(outcome, task=None, stopped=False), outcome.describe()
    assert outcome.events == []
    assert hung_up(server, "gate"), server.notes  # at the gate: the head never completed


def test_a_dripping_blocking_answer_meets_the_deadline(deadline_runner):
    server, clock = deadline_runner.server, deadline_runner.client.clock
    server.serve(HEAD, Drip(CHAT_BLOCKING_BODY[:10], 0.01), Gate(), Drip(CHAT_BLOCKING_BODY[10:], 0.01))
    mover = clock.advance_when(at(server, "gate"), DEADLINE)
    outcome = deadline_runner.blocking("chat")
    assert mover.moved(), server.notes
    assert not deadline_error(outcome, task=None, stopped=False), outcome.describe()
    assert "could not be stopped" in str(outcome.error)
    assert hung_up(server, "gate"), server.notes


# -- runs inside the deadline ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_run_inside_the_deadline_is_untouched(server, kind):
    clock = ManualClock()
    roomy = Runner(kind, server, timeout=10.0, deadline=DEADLINE, clock=clock)
    try:
        problems = run_streamed(roomy, "wf", [head(), SSE], SSE)
        assert not problems, problems
        server.serve(Drip(ANSWER_WIRE))
        assert not judge_blocking(roomy.blocking("chat"), json.loads(CHAT_BLOCKING_BODY))
        clock.advance(DEADLINE * 2)  # no timer of a finished run is left to fire
        assert not server.stops()
    finally:
        roomy.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_deadline_counts_from_the_start_of_each_run_not_from_the_client(server, kind):
    clock = ManualClock()
    idle = Runner(kind, server, timeout=10.0, deadline=DEADLINE, clock=clock)
    try:
        clock.advance(DEADLINE * 3)  # the client sat idle far longer than a run may take
        problems = run_streamed(idle, "wf", [head(), SSE], SSE)
        assert not problems, problems
        assert not server.stops()
    finally:
        idle.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_there_is_no_deadline_by_default(server, kind):
    plain = Runner(kind, server, timeout=10.0)
    try:
        assert plain.client.deadline is None
    finally:
        plain.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("bad", [0, -1, float("inf"), "10", True])
def test_a_deadline_that_is_not_a_positive_number_is_refused(server, kind, bad):
    with pytest.raises(DifyError, match="deadline"):
        Runner(kind, server, deadline=bad).close()


def test_the_deadline_comes_from_the_config(tmp_path):
    from difytui import ConfigError, Dify
    from difytui.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[workspaces.w]\nbase_url = "http://x/v1"\ndeadline = 600\n')
    workspace = load_config(path).workspace()
    assert workspace.deadline == 600
    with Dify(workspace=workspace) as dify:
        assert dify.deadline == 600
    path.write_text('[workspaces.w]\nbase_url = "http://x/v1"\ndeadline = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == 3 and "deadline must be" in str(caught.value)


# -- real time, end to end ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_on_the_real_clock_a_run_that_never_ends_meets_its_deadline(server, kind):
    """The clients' default clock is real time. The server holds the run forever and the deadline
    is tiny, so however slow the machine, the deadline is what ends the run (no time is asserted:
    it may pass before the run even reached the server)."""
    real = Runner(kind, server, timeout=10.0, deadline=0.05)
    try:
        server.serve(head(), block(S), Repeat(b"event: ping\n\n", 0.02))
        outcome = real.stream("wf")
        assert isinstance(outcome.error, DifyDeadlineError), outcome.describe()
        assert not server.runs() or hung_up(server), server.notes
    finally:
        real.close()
