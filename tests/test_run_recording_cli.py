"""`difytui invoke` records every run it starts (issue 11): streaming and blocking, failed and
stopped too, in the state database's run records, never with a key; and `[records]` sets the budget."""

from __future__ import annotations

import os
import textwrap

import pytest

from difytui.cli import main
from difytui.config import load_config
from difytui.errors import ConfigError
from difytui.run_records import DEFAULT_MAX_BYTES, Budget, RunRecords, summarize
from difytui.store import Store


def records() -> list:
    with Store() as store:  # the data dir the CLI used (DIFYTUI_DATA_DIR, per test)
        found = RunRecords(store).find(f"{_base()}|cli", limit=50)
        return [(r, RunRecords(store).events(r.id)) for r in found if r.id is not None]


_BASE: list[str] = []


def _base() -> str:
    return _BASE[0]


@pytest.fixture(autouse=True)
def _remember_base(sim):
    _BASE[:] = [sim.base_url]


def test_a_streamed_chat_invoke_is_recorded_with_its_events(capsys, config, sim):
    assert main(["--config", config, "invoke", "support-bot", "-q", "Where is my order?"]) == 0
    [(record, events)] = records()
    assert record.app_id == "support-bot" and record.interface == "chat"
    assert record.status == "succeeded" and record.query == "Where is my order?"
    assert record.answer and record.conversation_id and record.task_id and record.message_id
    assert record.started > 0 and record.finished is not None and record.finished >= record.started
    assert [e["event"] for e in events][-1] == "message_end"
    assert record.event_count == len(events)


def test_a_blocking_workflow_invoke_is_recorded_with_its_outputs(capsys, config, sim):
    argv = ["--config", config, "invoke", "report-builder", "-i", "topic=Tests", "--blocking"]
    assert main(argv) == 0
    [(record, events)] = records()
    assert record.interface == "workflow" and record.status == "succeeded"
    assert record.inputs["topic"] == "Tests" and record.outputs and record.workflow_run_id
    assert events[0]["event"] == "workflow_finished"


def test_failed_invokes_are_recorded_as_failed_and_no_key_is_stored(capsys, config, sim, tmp_path):
    sim.add_fault("/v1/chat-messages", "error", after=2, message="Rate limit")
    assert main(["--config", config, "invoke", "support-bot", "-q", "hi"]) == 1
    sim.add_fault("/v1/chat-messages", "cut", after=2)
    assert main(["--config", config, "invoke", "support-bot", "-q", "again"]) == 1
    (cut, cut_events), (error, _events) = records()
    assert error.status == "failed" and error.error == "Rate limit" and error.query == "hi"
    assert cut.status == "failed" and cut.error and cut.query == "again" and len(cut_events) == 2
    key = sim.apps_config()["support-bot"]
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert key.encode() not in data


def test_records_budget_comes_from_the_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(
            """
            [records]
            max_runs = 10
            max_mb = 2.5

            [workspaces.w]
            base_url = "http://localhost/v1"
            """
        )
    )
    ws = load_config(path).workspace()
    budget = Budget.of(ws.records)
    assert budget.max_runs == 10 and budget.max_bytes == int(2.5 * 1024 * 1024)
    path.write_text('[records]\nmax_runs = 0\n\n[workspaces.w]\nbase_url = "http://localhost/v1"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}:2" in str(error.value) and "max_runs" in str(error.value)
    path.write_text('[records]\nmax_gb = 1\n\n[workspaces.w]\nbase_url = "http://localhost/v1"\n')
    with pytest.raises(ConfigError, match="did you mean 'max_mb'"):
        load_config(path)
    path.write_text('[workspaces.w]\nbase_url = "http://localhost/v1"\n')
    assert Budget.of(load_config(path).workspace().records).max_bytes == DEFAULT_MAX_BYTES


def test_6000_runs_keep_5000_and_the_database_with_its_wal_stays_in_budget(tmp_path):
    path = tmp_path / "state.db"
    store = Store(path)
    budget = Budget(max_runs=5000, max_bytes=3 * 1024 * 1024)
    records = RunRecords(store, budget)
    biggest = 0
    for n in range(6000):
        noise = os.urandom(200).hex()  # incompressible: the byte budget binds before the run count
        events = [{"event": "message", "task_id": f"t{n}", "answer": noise}, {"event": "message_end"}]
        record, kept = summarize("a", "chat", {"n": n}, events, query=f"q{n}")
        records.add("ws", record, kept)
        if n % 250 == 0 or n > 5990:
            wal = tmp_path / "state.db-wal"
            size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            biggest = max(biggest, size)
    assert records.count() <= 5000
    assert records.find("ws", limit=1)[0].query == "q5999"
    assert biggest <= budget.max_bytes, f"{biggest} bytes with the WAL, over {budget.max_bytes}"
    # WAL's safe setting: a commit appends to the log without an fsync of its own
    assert store.write(None, lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0]) == 1
    store.close()


def test_a_run_paused_for_human_input_is_recorded_as_paused():
    events = [
        {"event": "workflow_started", "task_id": "t", "workflow_run_id": "w", "data": {}},
        {"event": "workflow_paused", "task_id": "t", "workflow_run_id": "w", "data": {"status": "paused"}},
    ]
    record, _kept = summarize("a", "workflow", {}, events)
    assert record.status == "paused" and record.workflow_run_id == "w"


def test_a_record_that_cannot_be_stored_never_fails_the_command(capsys, config, sim, monkeypatch):
    import difytui.run_records as run_records

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(run_records, "record_run", broken)
    assert main(["--config", config, "invoke", "support-bot", "-q", "hi"]) == 0
    out, err = capsys.readouterr()
    assert '"message_end"' in out
    assert "this run was not recorded in the state database (UnicodeEncodeError)" in err
