"""A valid answer (a real capture) cut at byte offsets, head included.

Streams: every event whose blank line arrived is delivered, in order and unchanged, and the run
raises unless its last event arrived. Blocking: the answer comes back whole or the call raises.
"""

from __future__ import annotations

import json

import pytest

from .harness import judge_blocking, judge_error, judge_stream, report
from .sampling import cut_offsets
from .server import response
from .wire import CHAT_BLOCKING_BODY, CHATFLOW, STREAMS, Stream, expected, json_body

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


def folded_cuts(runner, stream: Stream, offsets: list[int], answer: str) -> list[str]:
    """A blocking call the client makes by streaming and folding the events: the cut stream gives
    the whole answer (its last event arrived) or a DifyError, never a partial or empty result."""
    failures = []
    for cut in offsets:
        runner.server.serve(stream.wire[:cut])
        outcome = runner.blocking(stream.app)
        asked = json.loads(runner.server.runs()[-1].body).get("response_mode")
        if asked != "streaming":
            pytest.skip(f"this client asks Dify for blocking answers ({asked!r}): nothing is folded")
        body = stream.body[: cut - len(stream.head)] if cut >= len(stream.head) else b""
        arrived = cut >= len(stream.head) and expected(body, stream.mode).terminal
        if outcome.crash:
            problems = [f"crash (not a DifyError): {outcome.crash}"]
        elif outcome.error is not None:
            problems = [f"raised although the whole run arrived: {outcome.error}"] if arrived else []
        elif not arrived:
            problems = [f"a cut run passed as a result: {outcome.result!r:.100}"]
        elif not isinstance(outcome.result, dict) or outcome.result.get("answer") != answer:
            problems = [f"the folded answer is not the one streamed: {outcome.result!r:.100}"]
        else:
            problems = []
        failures += [f"{stream.name} folded, cut at {cut}: {p}" for p in problems]
    return failures


CHATFLOW_ANSWER = "echo: stream again | city=Tokyo"


def test_folded_blocking_cuts_sample(runner):
    offsets = cut_offsets(CHATFLOW.wire, full=False, seed="folded")[::4]  # a quarter of the sample: CI time
    failures = folded_cuts(runner, CHATFLOW, offsets, CHATFLOW_ANSWER)
    assert not failures, report(failures, len(offsets))


@pytest.mark.faults_full
def test_folded_blocking_cut_at_every_offset(runner):
    offsets = cut_offsets(CHATFLOW.wire, full=True, seed="")
    failures = folded_cuts(runner, CHATFLOW, offsets, CHATFLOW_ANSWER)
    assert not failures, report(failures, len(offsets))
