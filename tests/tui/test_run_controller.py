"""The run lifecycle without Textual: which run is current, Escape's rules, stops waiting for a
task id, leaving the console. The controller's only effects are the two callables it is given."""

from __future__ import annotations

import subprocess
import sys

import pytest

from difytui.tui.models import RunRequest
from difytui.tui.run_controller import ABANDONED, NOT_SENT, STOPPING, RunController


class FakeWorker:
    def __init__(self) -> None:
        self.is_finished = False
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.is_finished = True


class Recorder:
    """The controller's effects: stop requests sent, and streaming on/off calls."""

    def __init__(self) -> None:
        self.stops: list[str] = []
        self.streaming: list[bool] = []
        self.runs = RunController(self.stops.append, self.streaming.append)

    def balanced(self) -> bool:
        return self.streaming.count(True) == self.streaming.count(False)


def request(query: str = "hi") -> RunRequest:
    return RunRequest("support-bot", "chat", {}, query=query)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def started(rec: Recorder, query: str = "hi") -> tuple[int, FakeWorker]:
    run = rec.runs.begin(request(query))
    assert run is not None
    worker = FakeWorker()
    run.worker = worker
    return run.run_id, worker


def test_one_run_at_a_time_and_late_messages_are_ignored(rec):
    first, _worker = started(rec)
    assert rec.runs.begin(request("again")) is None  # busy: nothing starts, nothing streams twice
    assert rec.streaming == [True]
    assert rec.runs.event(first + 1, 1.0) is None  # another run's message
    run = rec.runs.event(first, 5.0)
    assert run is rec.runs.active and run.first_event_at == 5.0
    rec.runs.event(first, 6.0)
    assert run.first_event_at == 5.0  # the first event only

    ended, was_stopping = rec.runs.end(first)
    assert ended is run and not was_stopping
    assert rec.runs.active is None and rec.balanced()
    assert rec.runs.end(first) == (None, False)  # a second end (late message) changes nothing
    assert rec.runs.begin(request("next")).run_id == first + 1
    assert rec.runs.last_request.query == "next"


def test_ids_name_the_task_and_report_the_first_conversation_once(rec):
    run_id, _worker = started(rec)
    ids = rec.runs.ids(run_id, "t-1", "c-1")
    assert ids.run is rec.runs.active and ids.first_conversation == "c-1" and ids.stop_sent is None
    assert rec.runs.ids(run_id, None, "c-1").first_conversation is None  # unchanged
    # Dify switching conversation mid-run is kept, but it is not the run's first id.
    assert rec.runs.ids(run_id, None, "c-2").first_conversation is None
    assert rec.runs.active.conversation_id == "c-2" and rec.runs.active.task_id == "t-1"
    assert rec.runs.ids(run_id + 1, "t-9", "c-9") == type(ids)()  # not this run's: ignored


def test_a_conversation_named_after_the_first_ids_is_still_the_first(rec):
    run_id, _worker = started(rec)
    assert rec.runs.ids(run_id, "t-1", None).first_conversation is None
    assert rec.runs.ids(run_id, None, "c-1").first_conversation == "c-1"


def test_escape_with_a_task_id_closes_the_stream_and_stops_the_task(rec):
    run_id, worker = started(rec)
    rec.runs.ids(run_id, "t-1", None)
    stopped = rec.runs.stop()
    assert stopped is not None and stopped.run.run_id == run_id and "t-1" in stopped.note
    assert worker.cancelled and rec.stops == ["t-1"]
    assert rec.runs.active is None and rec.balanced()
    assert rec.runs.stop() is None  # idle: Escape goes on to the app (back to the app list)
    assert rec.runs.end(run_id) == (None, False)  # the cancelled worker's last word is late


def test_escape_before_the_task_id_stops_it_as_soon_as_dify_names_it(rec):
    run_id, worker = started(rec)
    stopped = rec.runs.stop()
    assert stopped is not None and stopped.note == STOPPING
    assert not worker.cancelled and rec.stops == []  # keeps reading: the first event names the task
    assert rec.runs.active is None and rec.balanced()
    assert rec.runs.event(run_id, 1.0) is None  # its text is no longer shown

    ids = rec.runs.ids(run_id, "t-1", "c-1")
    assert ids.stop_sent == "t-1" and ids.run is None and ids.first_conversation is None
    assert worker.cancelled and rec.stops == ["t-1"]
    assert rec.runs.ids(run_id, "t-1", None).stop_sent is None  # once
    assert rec.runs.pending_stops == {}


def test_a_stopped_run_that_ends_before_naming_its_task_has_nothing_left_to_stop(rec):
    run_id, _worker = started(rec)
    rec.runs.stop()
    assert rec.runs.end(run_id) == (None, True)
    assert rec.runs.ids(run_id, "t-1", None).stop_sent is None
    assert rec.stops == [] and rec.balanced()


def test_escape_while_the_run_is_set_up_sends_nothing(rec):
    run = rec.runs.begin(request())
    stopped = rec.runs.stop()  # before the pane started the worker
    assert stopped is not None and stopped.note == NOT_SENT
    assert not rec.runs.is_active(run)  # the pane checks this before starting the worker
    assert rec.stops == [] and rec.runs.pending_stops == {} and rec.balanced()


def test_escape_after_the_request_ended_without_a_task_id_abandons_it(rec):
    _run_id, worker = started(rec)
    worker.is_finished = True
    stopped = rec.runs.stop()
    assert stopped is not None and stopped.note == ABANDONED
    assert rec.stops == [] and rec.runs.pending_stops == {}


def test_a_failed_worker_ends_its_run_or_forgets_its_pending_stop(rec):
    stopping_id, stopping_worker = started(rec, "first")
    rec.runs.stop()  # waiting for its task id
    run_id, worker = started(rec, "second")
    assert rec.runs.worker_failed(FakeWorker()) is None  # some other worker (a stop request…)
    assert rec.runs.active is not None
    failed = rec.runs.worker_failed(worker)
    assert failed is not None and failed.run_id == run_id and rec.runs.active is None
    assert rec.runs.worker_failed(stopping_worker) is None
    assert stopping_id not in rec.runs.pending_stops
    assert rec.balanced()


def test_leaving_closes_named_streams_and_keeps_reading_unnamed_ones_until_named(rec):
    pending_id, pending_worker = started(rec, "unnamed")
    rec.runs.stop()
    run_id, worker = started(rec, "named")
    rec.runs.ids(run_id, "t-2", None)
    tasks = rec.runs.stop_all()
    assert tasks == ["t-2"] and worker.cancelled
    assert rec.stops == []  # the pane sends these itself and waits for the answers
    # The unnamed one keeps reading, as after Escape: its stop goes out once Dify names it.
    assert not pending_worker.cancelled and list(rec.runs.pending_stops) == [pending_id]
    assert rec.runs.active is None and rec.balanced()
    rec.runs.ids(pending_id, "t-1", None)
    assert rec.stops == ["t-1"] and pending_worker.cancelled and rec.runs.pending_stops == {}


def test_an_unnamed_active_run_at_leaving_waits_for_its_name_or_is_abandoned(rec):
    import asyncio

    run_id, worker = started(rec, "unnamed")
    assert rec.runs.stop_all() == [] and list(rec.runs.pending_stops) == [run_id]
    assert not worker.cancelled and rec.runs.active is None and rec.balanced()

    async def named_once_it_ends() -> None:
        waiting = asyncio.ensure_future(rec.runs.named())
        await asyncio.sleep(0)
        assert not waiting.done()
        rec.runs.end(run_id)  # the stream ended by itself: nothing left to wait for
        await asyncio.wait_for(waiting, 60)

    asyncio.run(named_once_it_ends())
    second_id, second = started(rec, "given up")
    rec.runs.stop_all()
    rec.runs.abandon()
    assert second.cancelled and rec.runs.pending_stops == {} and rec.stops == []
    assert rec.runs.end(second_id) == (None, False)


def test_the_controller_loads_no_textual():
    code = (
        "import sys, difytui.tui.run_controller, difytui.tui.models\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
