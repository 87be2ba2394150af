"""``difytui history`` and ``difytui export`` over loopback against the simulator (issue 11).

Runs are recorded into the state database the CLI reads (the test's own data dir) from real
simulator runs; conversations are Dify's, made by ``difytui invoke``."""

from __future__ import annotations

import json

import pytest
from helpers import account_config, run_cli
from recorded_runs import REPORT, assert_no_secret, record_workflow

from difytui.cli import main
from difytui.config import load_config
from difytui.run_records import RunRecords
from difytui.store import Store, workspace_key

run = run_cli


@pytest.fixture
def config(tmp_path, sim):
    path = tmp_path / "config.toml"
    path.write_text(sim.config_toml("test"))
    return str(path)


@pytest.fixture
def account(tmp_path, sim):
    return account_config(tmp_path, sim)


def recorded(sim, config: str, inputs: dict, as_app: str = "report-builder") -> int:
    """A real report-builder run, recorded where the CLI looks for this workspace's runs."""
    ws = workspace_key(load_config(config).workspace(None))
    with Store() as store:
        record, _ = record_workflow(sim, RunRecords(store), inputs, ws=ws, as_app=as_app)
    assert record.id is not None
    return record.id


def chat(capsys, config: str, query: str, conversation: str | None = None) -> str:
    argv = ["--config", config, "invoke", "support-bot", "-q", query, "--blocking"]
    code, out, err = run(capsys, *argv, *(["-c", conversation] if conversation else []))
    assert code == 0, err
    return json.loads(out)["conversation_id"]


def test_history_lists_conversations_and_recorded_runs(capsys, config, sim):
    first = chat(capsys, config, "hello")
    second = chat(capsys, config, "another thread")
    code, out, err = run(capsys, "--config", config, "history", "support-bot")
    assert code == 0, err
    assert "Conversations of support-bot (2, newest first)" in out
    assert out.index(second) < out.index(first)
    # `difytui invoke` records every run it starts: both turns are listed, newest first
    runs = out.split("Runs of support-bot recorded here (2, newest first)\n", 1)[1]
    assert runs.index("another thread") < runs.index("hello")

    rid = recorded(sim, config, REPORT)
    code, out, err = run(capsys, "--config", config, "history", "report-builder")
    assert code == 0, err
    assert "Conversations" not in out  # a workflow app has runs, not conversations
    assert f"#{rid:<5}" in out and "succeeded" in out

    code, out, err = run(capsys, "--config", config, "history", "report-builder", "--json")
    listed = json.loads(out)
    assert listed["conversations"] is None and [r["id"] for r in listed["runs"]] == [rid]
    assert_no_secret(out, sim)


def test_export_a_run_to_a_file_and_to_stdout(capsys, config, sim, tmp_path):
    rid = recorded(sim, config, REPORT)
    target = tmp_path / "run.json"
    code, out, err = run(
        capsys, "--config", config, "export", "report-builder", "--run", str(rid), "-o", str(target)
    )
    assert (code, out) == (0, "") and f"wrote {target}" in err
    dumped = json.loads(target.read_text(encoding="utf-8"))  # json by the file's suffix
    assert dumped["record"]["id"] == rid and dumped["events"][-1]["event"] == "workflow_finished"

    code, out, err = run(capsys, "--config", config, "export", "report-builder", "--run", f"#{rid}")
    assert code == 0, err
    assert out.startswith(f"# Run #{rid} · report-builder (workflow)") and "## Nodes" in out
    for text in (out, target.read_text(encoding="utf-8")):
        assert_no_secret(text, sim)


def test_export_a_conversation_both_formats(capsys, config, sim, tmp_path):
    conversation = chat(capsys, config, "how do I install difytui?")
    chat(capsys, config, "and the demo?", conversation)
    for fmt in ("md", "json"):
        target = tmp_path / f"conversation.{fmt}"
        argv = ["export", "support-bot", "--conversation", conversation, "--format", fmt, "-o", str(target)]
        code, _out, err = run(capsys, "--config", config, *argv)
        assert code == 0, err
        text = target.read_text(encoding="utf-8")
        assert_no_secret(text, sim)
        if fmt == "md":
            assert text.count("**Assistant:**") == 2 and "Sources:" in text
        else:
            assert [m["query"] for m in json.loads(text)["messages"]] == [
                "how do I install difytui?",
                "and the demo?",
            ]


def test_export_mistakes_are_one_line_each(capsys, config, sim):
    code, out, err = run(capsys, "--config", config, "export", "report-builder", "--run", "999")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "no run 999 of report-builder" in err
    code, out, err = run(capsys, "--config", config, "export", "report-builder", "--run", "x")
    assert code == 2 and err.count("\n") == 1
    gone = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    code, out, err = run(capsys, "--config", config, "export", "support-bot", "--conversation", gone)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(SystemExit) as usage:  # neither --conversation nor --run
        main(["--config", config, "export", "support-bot"])
    assert usage.value.code == 2


def test_an_account_workspace_says_there_is_no_history_and_lists_local_runs(capsys, account, sim):
    rid = recorded(sim, account, REPORT, as_app=sim.directory.by_slug("report-builder").uuid)
    code, out, err = run(capsys, "--config", account, "history", "Report Builder")
    assert code == 0, err
    assert "account API has no history endpoints" in err and f"#{rid:<5}" in out
    code, out, err = run(capsys, "--config", account, "export", "Report Builder", "--run", str(rid))
    assert code == 0 and out.startswith(f"# Run #{rid}")
    code, out, err = run(capsys, "--config", account, "export", "Report Builder", "-c", "abc")
    assert code == 2 and "account workspace" in err and err.count("\n") == 1
    assert_no_secret(out + err, sim)
