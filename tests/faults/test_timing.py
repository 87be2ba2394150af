"""Stalls, drips and resets. Stalls meet a client with a short read timeout (the never-ending
answers that meet the overall run deadline are in test_deadline.py). Resets come after the client
consumed a known number of events (the server waits for the test's signal), so what arrived is
known exactly."""

from __future__ import annotations

import json

import pytest

from difytui.errors import DifyConnectionError

from .harness import Runner, judge_blocking, judge_error, judge_stream, run_streamed
from .server import Drip, Gate, KeepAlive, Reset, Stall, response
from .wire import CHAT_BLOCKING_BODY, CHATFLOW, F, S, T, block, expected, head

SSE = block(S) + block(T) + block(F)
ANSWER_WIRE = response(CHAT_BLOCKING_BODY)
HEAD = ANSWER_WIRE[: len(ANSWER_WIRE) - len(CHAT_BLOCKING_BODY)]
HALF_ANSWER = ANSWER_WIRE[: len(ANSWER_WIRE) - len(CHAT_BLOCKING_BODY) // 2]


def timed_out(outcome) -> list[str]:
    problems = judge_error(outcome)
    if outcome.error is not None and not isinstance(outcome.error, DifyConnectionError):
        problems.append(f"a stall should be a DifyConnectionError, got {outcome.error!r:.120}")
    return problems


# -- stalls (read timeout) -----------------------------------------------------------------------

STALLS = {
    "before-head": ([Stall()], b"", None),
    "mid-head": ([head()[:20], Stall()], b"", None),
    "after-head": ([head(), Stall()], b"", []),
    "mid-block": ([head(), block(S), block(T)[:25], Stall()], block(S), [S]),
    "between-events": ([head(), block(S), block(T), Stall()], block(S) + block(T), [S, T]),
    "after-ping": ([head(), b"event: ping\n\n", Stall()], b"", []),
}


@pytest.mark.parametrize("name", list(STALLS))
def test_stream_stall_times_out_after_delivering_what_arrived(short_runner, name):
    script, body, _events = STALLS[name]
    short_runner.server.serve(*script)
    outcome = short_runner.stream("wf")
    problems = judge_stream(outcome, expected(body, "workflow"), "workflow") + timed_out(outcome)
    assert not problems, (problems, outcome.describe())
    assert short_runner.server.wait(lambda: ("hung-up", "stall") in short_runner.server.notes)


def test_stall_after_the_last_event_is_a_clean_end(short_runner):
    """The client stops reading at the run's last event: a server that then keeps the connection
    open (Dify does, after an `error` event) must not turn the run into a timeout."""
    problems = run_streamed(short_runner, "wf", [head(), SSE, Stall()], SSE)
    assert not problems, problems


@pytest.mark.parametrize("script", [[Stall()], [HALF_ANSWER, Stall()]], ids=["before-head", "mid-body"])
def test_blocking_stall_times_out(short_runner, script):
    short_runner.server.serve(*script)
    outcome = short_runner.blocking("chat")
    assert not timed_out(outcome), outcome.describe()


# -- drips -----------------------------------------------------------------------------------------


def test_dripped_stream_delivers_every_event(runner):
    """The real chatflow stream, one byte per write: framing must not depend on packet bounds."""
    problems = run_streamed(runner, "chat", [Drip(CHATFLOW.wire)], CHATFLOW.body)
    assert not problems, problems


def test_dripped_blocking_answer_arrives_whole(runner):
    runner.server.serve(Drip(ANSWER_WIRE))
    assert not judge_blocking(runner.blocking("chat"), json.loads(CHAT_BLOCKING_BODY))


# -- resets ----------------------------------------------------------------------------------------

BLOCKS = [block(S), block(T), block(F)]


@pytest.mark.parametrize("consumed", [0, 1, 2])
def test_reset_after_events_delivers_them_then_raises(runner, consumed):
    body = b"".join(BLOCKS[:consumed])
    problems = run_streamed(runner, "wf", [head(), body, Gate(), Reset()], body, gate_after=consumed)
    assert not problems, problems


def test_reset_mid_block_delivers_the_events_before_it(runner):
    body = block(S) + block(T)[:30]
    problems = run_streamed(runner, "wf", [head(), body, Gate(), Reset()], body, gate_after=1)
    assert not problems, problems


def test_reset_after_the_last_event_is_a_clean_end(runner):
    problems = run_streamed(runner, "wf", [head(), SSE, Gate(), Reset()], SSE, gate_after=3)
    assert not problems, problems


@pytest.mark.parametrize("script", [[Reset()], [head()[:30], Reset()]], ids=["before-head", "mid-head"])
def test_stream_reset_before_the_head_completes(runner, script):
    runner.server.serve(*script)
    assert not judge_error(runner.stream("wf"), events=[])


@pytest.mark.parametrize("script", [[Reset()], [HALF_ANSWER, Reset()]], ids=["before-head", "mid-body"])
def test_blocking_reset(runner, script):
    runner.server.serve(*script)
    assert not judge_error(runner.blocking("chat"))


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("second", ["blocking", "streaming"])
def test_a_kept_alive_connection_the_server_dropped_does_not_fail_the_next_run(server, kind, second):
    """Issue 8 item 10: the server closed an idle kept-alive connection; the next run must not
    fail with 'connection reset' (retry it on a fresh connection, or don't reuse idle ones)."""
    fresh = Runner(kind, server, timeout=10.0)
    try:
        server.serve(response(CHAT_BLOCKING_BODY, close=False), KeepAlive(reset_next=True))
        answer = json.loads(CHAT_BLOCKING_BODY)
        assert not judge_blocking(fresh.blocking("chat"), answer)
        if second == "blocking":
            problems = judge_blocking(fresh.blocking("chat"), answer)
        else:
            server.serve(head(), SSE)  # the same app: its /info is cached, so the run reuses the connection
            problems = judge_stream(fresh.stream("chat"), expected(SSE, "advanced-chat"), "advanced-chat")
        assert not problems, (problems, server.notes)
    finally:
        fresh.close()
