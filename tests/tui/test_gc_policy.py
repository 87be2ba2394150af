"""The console's garbage-collector policy (difytui.tui.gc_policy), driven by hand."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from difytui.tui.gc_policy import GcPolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def churn(allocations: int) -> None:
    for _ in range(allocations):
        Node()


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


def test_the_app_is_frozen_once_when_the_first_stream_starts(collector):
    policy = GcPolicy()
    assert gc.get_freeze_count() == 0  # not at start-up: the first frame is not drawn yet
    app = Node()
    policy.stream_started()
    assert gc.get_freeze_count() > 0 and not tracked(app)  # what lives now is not scanned again
    chat = Node()  # the chat's own objects stay collectable: not frozen by the next stream
    policy.stream_started()
    assert tracked(chat)


def tracked(thing: object) -> bool:
    """``thing`` is scanned by the collector's passes (gc.get_objects() leaves out frozen objects).
    Not the freeze count: frozen objects that die (other threads' too) lower it."""
    return any(o is thing for o in gc.get_objects())


def test_full_passes_keep_their_cadence_while_it_streams_and_free_dropped_cycles(collector):
    policy = GcPolicy()
    thresholds = gc.get_threshold()
    policy.stream_started()
    assert gc.get_threshold() == thresholds  # rarer full passes would be longer ones
    young = thresholds[0] * thresholds[1]  # allocations between two gen1 passes
    piece = Node()  # a piece's cycle that lives long enough to reach generation 2, then is dropped
    dropped = weakref.ref(piece)
    churn(young * 3)
    assert dropped() is not None
    del piece
    collector.clear()
    churn(young * thresholds[2] * 2)  # a stream's churn: allocations set the cadence
    assert 2 in collector and dropped() is None
    policy.close()


def test_close_mid_stream_unfreezes(collector):
    policy = GcPolicy()
    policy.stream_started()
    policy.close()  # the app ends mid-stream
    assert gc.get_freeze_count() == 0


def test_the_first_frame_freeze_is_undone_on_close_even_with_no_stream(collector):
    policy = GcPolicy()
    policy.first_frame()
    assert gc.get_freeze_count() > 0
    made_after = Node()
    policy.stream_started()  # what the app built after its first frame is frozen too, once
    assert not tracked(made_after)
    policy.close()
    assert gc.get_freeze_count() == 0
    policy = GcPolicy()
    policy.first_frame()
    policy.close()  # a console that never streamed
    assert gc.get_freeze_count() == 0
