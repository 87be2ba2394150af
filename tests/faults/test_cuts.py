"""A valid answer (a real capture) cut at byte offsets, head included.

Streams: every event whose blank line arrived is delivered, in order and unchanged, and the run
raises unless its last event arrived. Blocking: the answer comes back whole or the call raises.
"""

from __future__ import annotations

import pytest

from .harness import judge_blocking, judge_error, judge_stream, report
from .sampling import cut_offsets
from .server import response
from .wire import CHAT_BLOCKING_BODY, STREAMS, Stream, expected, json_body

SHARDS = 4  # so that pytest-xdist can spread the offsets over its workers


def stream_cuts(runner, stream: Stream, offsets: list[int]) -> list[str]:
    failures = []
    for cut in offsets:
        runner.server.serve(stream.wire[:cut])
        outcome = runner.stream(stream.app)
        if cut < len(stream.head):  # the head never completed: an error, and nothing delivered
            problems = judge_error(outcome, events=[])
        else:
            body = stream.body[: cut - len(stream.head)]
            problems = judge_stream(outcome, expected(body, stream.mode), stream.mode)
        failures += [f"{stream.name} cut at {cut}: {p}" for p in problems]
    return failures


def blocking_cuts(runner, wire: bytes, head_size: int, offsets: list[int], *, framed: bool) -> list[str]:
    failures = []
    for cut in offsets:
        runner.server.serve(wire[:cut])
        outcome = runner.blocking("chat")
        body = wire[head_size:cut] if cut >= head_size else b""
        complete = cut == len(wire) if framed else cut >= head_size
        problems = judge_blocking(outcome, json_body(body) if complete else None)
        failures += [
            f"blocking ({'length' if framed else 'close'}-framed) cut at {cut}: {p}" for p in problems
        ]
    return failures


def _blocking_wire(framed: bool) -> tuple[bytes, int]:
    wire = response(CHAT_BLOCKING_BODY, length=framed)
    return wire, len(wire) - len(CHAT_BLOCKING_BODY)


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.app)
def test_stream_cuts_sample(runner, stream, shard):
    offsets = cut_offsets(stream.wire, full=False, seed=stream.name)[shard::SHARDS]
    failures = stream_cuts(runner, stream, offsets)
    assert not failures, report(failures, len(offsets))


@pytest.mark.faults_full
@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.app)
def test_stream_cut_at_every_offset(runner, stream, shard):
    offsets = cut_offsets(stream.wire, full=True, seed=stream.name)[shard::SHARDS]
    failures = stream_cuts(runner, stream, offsets)
    assert not failures, report(failures, len(offsets))


@pytest.mark.parametrize("framed", [True, False], ids=["content-length", "close-delimited"])
def test_blocking_cuts_sample(runner, framed):
    wire, head_size = _blocking_wire(framed)
    offsets = cut_offsets(wire, full=False, seed=f"blocking-{framed}")
    failures = blocking_cuts(runner, wire, head_size, offsets, framed=framed)
    assert not failures, report(failures, len(offsets))


@pytest.mark.faults_full
@pytest.mark.parametrize("framed", [True, False], ids=["content-length", "close-delimited"])
def test_blocking_cut_at_every_offset(runner, framed):
    wire, head_size = _blocking_wire(framed)
    offsets = cut_offsets(wire, full=True, seed="")
    failures = blocking_cuts(runner, wire, head_size, offsets, framed=framed)
    assert not failures, report(failures, len(offsets))
