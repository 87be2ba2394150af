"""The console's garbage-collector policy (difytui.tui.gc_policy), driven by hand."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from difytui.tui.gc_policy import GcPolicy


class FakeTimer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay, self.callback, self.stopped = delay, callback, False

    def stop(self) -> None:
        self.stopped = True


class FakeLoop:
    """Stands for the app: keeps what it was asked to call, the test calls it."""

    def __init__(self) -> None:
        self.after_refresh: list[Callable[[], None]] = []
        self.timers: list[FakeTimer] = []

    def call_after_refresh(self, callback: Callable[[], None], *args: object) -> bool:
        self.after_refresh.append(callback)
        return True

    def set_timer(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        self.timers.append(FakeTimer(delay, callback))
        return self.timers[-1]


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture
def collector() -> Iterator[list[int]]:
    """The generations of the collections that run during the test; the collector as it was after."""
    thresholds = gc.get_threshold()
    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield generations
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def test_full_passes_wait_while_it_streams_and_come_back_after_the_final_render(collector):
    loop = FakeLoop()
    policy = GcPolicy(loop)
    thresholds = gc.get_threshold()
    policy.stream_started()
    assert gc.get_threshold()[2] > thresholds[2]
    policy.stream_ended()
    assert gc.get_threshold()[2] > thresholds[2]  # not before the final render is drawn
    loop.after_refresh.pop()()
    assert gc.get_threshold() == thresholds


def test_close_mid_stream_restores_the_collector(collector):
    loop = FakeLoop()
    policy = GcPolicy(loop)
    thresholds = gc.get_threshold()
    policy.stream_started()
    policy.close()  # the app ends mid-stream
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
