"""Seeded single-byte corruptions of real answers: whatever the byte, the call ends cleanly or with
a DifyError, the events before the damage are delivered, and a damaged run never passes as whole."""

from __future__ import annotations

import random

import pytest

from .harness import judge_blocking, judge_stream, report
from .server import response
from .wire import CHAT_BLOCKING_BODY, STREAMS, expected, json_body

CI_CASES = 200
FULL_CASES = 2000


def corruptions(wire: bytes, count: int, seed: str) -> list[tuple[int, int]]:
    """``count`` (offset, new byte) pairs, each byte different from the one it replaces."""
    rng = random.Random(f"corrupt:{seed}")
    cases = []
    for _ in range(count):
        offset = rng.randrange(len(wire))
        cases.append((offset, rng.choice([b for b in range(256) if b != wire[offset]])))
    return cases


def _stream_corruptions(runner, count: int) -> tuple[list[str], int]:
    failures, total = [], 0
    for stream in STREAMS:
        for offset, byte in corruptions(stream.wire, count // len(STREAMS), stream.name):
            total += 1
            wire = stream.wire[:offset] + bytes([byte]) + stream.wire[offset + 1 :]
            runner.server.serve(wire)
            outcome = runner.stream(stream.app)
            if offset < len(stream.head):
                # A damaged head may refuse the answer; if it is accepted, the events must be whole.
                reading = expected(stream.body, stream.mode)
                problems = [outcome.crash] if outcome.crash else []
                if outcome.error is None and not outcome.crash:
                    problems = judge_stream(outcome, reading, stream.mode)
            else:
                problems = judge_stream(outcome, expected(wire[len(stream.head) :], stream.mode), stream.mode)
            failures += [f"{stream.name} byte {offset} → {byte:#04x}: {p}" for p in problems]
    return failures, total


def _blocking_corruptions(runner, count: int) -> tuple[list[str], int]:
    wire = response(CHAT_BLOCKING_BODY)
    head = len(wire) - len(CHAT_BLOCKING_BODY)
    failures = []
    for offset, byte in corruptions(wire[head:], count, "blocking"):
        damaged = CHAT_BLOCKING_BODY[:offset] + bytes([byte]) + CHAT_BLOCKING_BODY[offset + 1 :]
        runner.server.serve(wire[:head] + damaged)
        outcome = runner.blocking("chat")
        problems = judge_blocking(outcome, json_body(damaged))
        failures += [f"blocking body byte {offset} → {byte:#04x}: {p}" for p in problems]
    return failures, count


def test_stream_corruptions_sample(runner):
    failures, total = _stream_corruptions(runner, CI_CASES)
    assert not failures, report(failures, total)


def test_blocking_corruptions_sample(runner):
    failures, total = _blocking_corruptions(runner, CI_CASES // 2)
    assert not failures, report(failures, total)


@pytest.mark.faults_full
def test_stream_corruptions_full(runner):
    failures, total = _stream_corruptions(runner, FULL_CASES)
    assert not failures, report(failures, total)
