"""``difytui invoke`` through a dropped stream: the events go on (NDJSON, none twice), stderr says so."""

from __future__ import annotations

import json

from difytui.cli import main

WORKFLOW = ("invoke", "report-builder", "-i", "topic=Streaming", "-i", "audience=engineers")
CHATFLOW = ("invoke", "trip-planner", "-q", "food", "-i", "city=Lyon")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_dropped_workflow_streams_on_and_stderr_notes_the_reconnect(capsys, config, sim):
    code, out, err = run(capsys, "--config", config, *WORKFLOW)
    uncut = [json.loads(line)["event"] for line in out.splitlines()]
    assert code == 0 and "reconnected" not in err
    sim.add_fault("/v1/workflows/run", "drop", after=14)
    code, out, err = run(capsys, "--config", config, *WORKFLOW)
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [event["event"] for event in events] == uncut
    run_id = events[0]["workflow_run_id"]
    assert f"difytui: the connection dropped; reconnected to {run_id} (1×)" in err


def test_text_mode_prints_the_whole_answer_when_text_was_lost(capsys, config, sim):
    sim.add_fault("/v1/chat-messages", "drop", after=20, gap=5)
    code, out, err = run(capsys, "--config", config, *CHATFLOW, "--text")
    [record] = [record for record in sim.state.workflow_runs.values() if record.outputs]
    whole = record.outputs["answer"]
    assert code == 0
    assert "reconnected to" in err and "the whole answer:" in err
    assert out.endswith(whole)
    streamed = out[: -len(whole)]
    assert streamed.strip() and whole not in streamed  # what streamed first missed the lost pieces


def test_a_dropped_blocking_run_notes_the_reconnect_on_stderr_too(capsys, config, sim):
    """--blocking streams under the hood: a drop is re-attached there, and said as a stream says it
    (the result on stdout stays Dify's blocking body)."""
    sim.add_fault("/v1/workflows/run", "drop", after=14)
    code, out, err = run(capsys, "--config", config, *WORKFLOW, "--blocking")
    result = json.loads(out)
    assert code == 0 and result["data"]["status"] == "succeeded" and "reconnects" not in out
    assert f"difytui: the connection dropped; reconnected to {result['workflow_run_id']} (1×)" in err
