"""The console's garbage-collector policy (difytui.tui.gc_policy), driven by hand."""

from __future__ import annotations

import gc
import weakref
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


def test_the_end_of_a_stream_freezes_survivors_without_a_full_pass(collector):
    loop = FakeLoop()
    policy = GcPolicy(loop)
    thresholds = gc.get_threshold()
    policy.stream_started()
    assert gc.get_threshold()[2] > thresholds[2]  # full passes wait
    policy.stream_ended()
    assert gc.get_freeze_count() == 0  # nothing before the final render is drawn
    collector.clear()
    loop.after_refresh.pop()()
    assert 2 not in collector  # no full pass on the loop
    assert gc.get_freeze_count() > 0  # what lives now is not scanned by later full passes
    assert gc.get_threshold() == thresholds


def test_garbage_frozen_at_the_end_of_a_stream_is_freed_by_the_idle_sweep(collector):
    loop = FakeLoop()
    policy = GcPolicy(loop)
    policy.stream_started()
    node = Node()
    gc.collect()  # the node reaches the old generation, which the young pass leaves alone
    dead = weakref.ref(node)
    del node
    policy.stream_ended()
    loop.after_refresh.pop()()
    assert dead() is not None  # frozen with the survivors
    sweep = loop.timers[-1]
    assert sweep.delay == GcPolicy.IDLE
    sweep.callback()
    assert dead() is None


def test_a_new_stream_cancels_the_idle_sweep_and_close_restores_the_collector(collector):
    loop = FakeLoop()
    policy = GcPolicy(loop)
    thresholds = gc.get_threshold()
    policy.stream_started()
    policy.stream_ended()
    loop.after_refresh.pop()()
    policy.stream_started()
    assert loop.timers[-1].stopped
    policy.close()  # the app ends mid-stream
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
