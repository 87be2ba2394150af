"""Run records (issue 11): a run's summary and compressed events, kept within the budget."""

from __future__ import annotations

import os
import sqlite3

from difytui.run_records import Budget, RunRecords, summarize
from difytui.secrets import Secret
from difytui.store import Store

WS = "http://dify.local|alice"


def chat_events(n: int, text: str = "hello") -> list[dict]:
    ids = {"conversation_id": f"c{n}", "message_id": f"m{n}", "task_id": f"t{n}"}
    return [
        {"event": "message", **ids, "answer": text[:2]},
        {"event": "message", **ids, "answer": text[2:]},
        {
            "event": "message_end",
            **ids,
            "metadata": {
                "usage": {"total_tokens": 42, "total_price": "0.0012", "currency": "USD", "latency": 1.5}
            },
        },
    ]


def test_a_chat_run_is_summarized_and_its_events_come_back(tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    record, events = summarize(
        "support", "chat", {"product": "difytui"}, chat_events(1), query="hi", started=10.0, finished=12.0
    )
    rid = records.add(WS, record, events)
    (got,) = records.find(WS, "support")
    assert (got.id, got.status, got.answer, got.query) == (rid, "succeeded", "hello", "hi")
    assert (got.conversation_id, got.message_id, got.task_id) == ("c1", "m1", "t1")
    assert (got.total_tokens, got.total_price, got.currency, got.elapsed) == (42, "0.0012", "USD", 1.5)
    assert records.events(rid) == events
    assert records.find(WS, status="failed") == [] and records.find(WS, text="hell")[0].id == rid


def test_lone_surrogates_from_a_hostile_server_are_kept_in_events_and_do_not_break_the_record(tmp_path):
    # JSON may spell "\\ud800"; Python keeps it in a str, but UTF-8 (SQLite, zlib'd text) cannot.
    records = RunRecords(Store(tmp_path / "state.db"))
    events = chat_events(1, "he\ud800llo")
    events[-1]["metadata"]["note"] = "\udfff"
    record, kept = summarize("support", "chat", {"name": "x\ud800"}, events, query="q\udc00")
    rid = records.add(WS, record, kept)
    (got,) = records.find(WS, "support")
    assert (got.answer, got.query, got.inputs) == ("he\ufffdllo", "q\ufffd", {"name": "x\ud800"})
    assert records.events(rid) == kept  # exactly as received


def test_a_workflow_run_keeps_outputs_error_and_server_timing():
    finished = {
        "event": "workflow_finished",
        "task_id": "t",
        "workflow_run_id": "r",
        "data": {
            "status": "failed",
            "outputs": {"x": 1},
            "error": "boom",
            "elapsed_time": 0.25,
            "total_tokens": 7,
        },
    }
    record, _ = summarize("report", "workflow", {"topic": "SSE"}, [finished], started=1.0, finished=3.0)
    assert (record.status, record.outputs, record.error, record.elapsed, record.total_tokens) == (
        "failed",
        {"x": 1},
        "boom",
        0.25,
        7,
    )
    assert record.workflow_run_id == "r"


def test_no_key_reaches_the_database(tmp_path):
    key = "app-SECRETSECRETSECRET1234"
    path = tmp_path / "state.db"
    store = Store(path)
    record, events = summarize("a", "chat", {"token": Secret(key), "q": "x"}, chat_events(1))
    RunRecords(store).add(WS, record, events)
    store.close()
    assert key.encode() not in path.read_bytes()


def test_6000_runs_keep_the_newest_5000():
    store = Store(":memory:")  # the count bound; the file's size is the next test's (fsyncs are slow)
    records = RunRecords(store, Budget(max_runs=5000, max_bytes=100 * 1024 * 1024))
    for n in range(6000):
        record, events = summarize("a", "chat", {}, chat_events(n), query=f"q{n}")
        records.add(WS, record, events)
    assert records.count() == 5000
    newest = records.find(WS, limit=5000)
    assert newest[0].query == "q5999" and newest[-1].query == "q1000"


def test_the_database_stays_under_its_byte_budget(tmp_path):
    path = tmp_path / "state.db"
    store = Store(path)
    budget = Budget(max_runs=5000, max_bytes=1_000_000)
    records = RunRecords(store, budget)
    for n in range(700):
        noise = os.urandom(1500).hex()  # incompressible: ~3 kB per record
        record, events = summarize("a", "chat", {}, chat_events(n, noise), query=f"q{n}")
        records.add(WS, record, events)
    kept = records.count()
    assert 100 < kept < 700
    assert records.find(WS, limit=1)[0].query == "q699"
    store.close()
    assert os.path.getsize(path) <= budget.max_bytes
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_resumed_run_continues_its_paused_record_and_an_unknown_run_is_left_alone(tmp_path):
    from difytui.run_records import continue_run, record_run

    records = RunRecords(Store(tmp_path / "state.db"))
    ids = {"task_id": "t", "workflow_run_id": "w"}
    paused = [
        {"event": "workflow_started", **ids, "data": {"id": "w"}},
        {"event": "workflow_paused", **ids, "data": {"status": "paused"}},
    ]
    record_run(records, WS, "approval", "workflow", {"topic": "v2"}, paused)
    assert continue_run(records, WS, "approval", "other-run", []) is None
    replay_and_rest = [
        *paused,  # the listener's snapshot replays the run up to the pause
        {"event": "workflow_finished", **ids, "data": {"status": "succeeded", "outputs": {"ok": 1}}},
    ]
    new_id = continue_run(records, WS, "approval", "w", replay_and_rest, finished=5.0)
    (record,) = records.find(WS, "approval")
    assert (record.id, record.status, record.outputs) == (new_id, "succeeded", {"ok": 1})
    assert record.inputs == {"topic": "v2"}
    assert [e["event"] for e in records.events(new_id)] == [
        "workflow_started",
        "workflow_paused",
        "workflow_finished",
    ]
