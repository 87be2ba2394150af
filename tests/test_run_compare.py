"""Comparing two recorded runs (issue 11): real runs from the simulator over loopback."""

from __future__ import annotations

from recorded_runs import record_chat, record_workflow

from difytui.run_compare import compare_runs, delta, node_runs
from difytui.run_records import RunRecord, RunRecords
from difytui.store import Store


def test_two_workflow_runs_with_different_inputs(sim, tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    a, _ = record_workflow(sim, records, {"topic": "SSE", "audience": "engineers", "sections": 2})
    b, _ = record_workflow(
        sim, records, {"topic": "SSE", "audience": "managers", "sections": 3, "notes": "ops"}
    )
    # what the store gives back compares like what was recorded
    cmp = compare_runs(records.get(a.id), records.get(b.id), records.events(a.id), records.events(b.id))
    assert [(c.key, c.kind, c.left, c.right) for c in cmp.inputs] == [
        ("audience", "changed", "engineers", "managers"),
        ("notes", "added", None, "ops"),
        ("sections", "changed", 2, 3),
    ]
    assert cmp.same_inputs == ["topic"]
    rows = {(r.node_id, r.occurrence): r for r in cmp.nodes}
    # the third section's draft ran only in the right run, placed after the second one
    keys = [(r.node_id, r.occurrence) for r in cmp.nodes]
    assert keys.index(("draft_llm", 3)) == keys.index(("draft_llm", 2)) + 1
    assert rows[("draft_llm", 3)].differs == ("only_right",) and rows[("draft_llm", 3)].left is None
    assert "outputs" in rows[("plan", 1)].differs
    assert {"tokens", "outputs"} <= set(rows[("draft_sections", 1)].differs)
    assert cmp.diff_of == "outputs" and any(line.startswith("+") and "managers" in line for line in cmp.diff)
    assert cmp.diff[0] == f"--- #{a.id} report-builder"
    # the report's text, line by line: the third section only on the right
    report = cmp.text_diffs["report"]
    assert report[1] == f"+++ #{b.id} report-builder: report" and "+## Risks: SSE" in report
    assert cmp.totals.tokens == (2 * 64 + 20, 3 * 64 + 20)
    assert delta(*cmp.totals.tokens) == "+64"


def test_identical_runs_differ_nowhere_but_chat_answers_are_diffed(sim, tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    same = {"topic": "SSE", "audience": "engineers", "sections": 2}
    a, a_events = record_workflow(sim, records, same)
    b, b_events = record_workflow(sim, records, same)
    cmp = compare_runs(a, b, a_events, b_events)
    assert cmp.inputs == [] and cmp.differing_nodes == [] and cmp.diff == []
    c, c_events = record_chat(sim, records, "what is difytui?")
    cmp = compare_runs(a, c, a_events, c_events)  # two apps: a workflow and a chat app
    assert cmp.diff_of == "answer" and cmp.diff
    assert all(row.differs == ("only_left",) for row in cmp.nodes)


def test_a_node_that_never_finished_is_unfinished():
    events = [
        {"event": "node_started", "data": {"id": "x1", "node_id": "llm", "title": "LLM", "node_type": "llm"}}
    ]
    (run,) = node_runs(events)
    assert (run.key, run.status, run.title) == (("llm", 1), "unfinished", "LLM")


def test_node_events_without_an_execution_id_pair_up_and_keep_the_finished_data():
    started = {"node_id": "llm", "title": "LLM", "node_type": "llm"}
    done = {**started, "title": "LLM (gpt)", "status": "succeeded", "outputs": {"text": "hi"}}
    events = [{"event": "node_started", "data": started}, {"event": "node_finished", "data": done}] * 2
    first, second = node_runs(events)  # the node ran twice: each finish ends its own start
    assert (first.key, second.key) == (("llm", 1), ("llm", 2))
    assert first.status == "succeeded" and first.title == "LLM (gpt)" and first.data == done


def node(kind: str, exec_id: str, node_id: str, **data: object) -> dict:
    return {"event": kind, "data": {"id": exec_id, "node_id": node_id, "title": node_id.upper(), **data}}


def test_status_error_and_a_much_slower_node_are_flagged():
    left = [
        node("node_started", "a", "llm"),
        node("node_finished", "a", "llm", status="succeeded", elapsed_time=0.4),
    ]
    right = [
        node("node_started", "b", "llm"),
        node("node_finished", "b", "llm", status="failed", error="[red]quota[/red]", elapsed_time=2.0),
    ]
    (row,) = compare_runs(
        RunRecord("x", "workflow", "succeeded", {}), RunRecord("y", "workflow", "failed", {}), left, right
    ).nodes
    assert row.differs == ("status", "error", "elapsed") and row.right.error == "[red]quota[/red]"
    # the same node a little slower is not a difference: elapsed times always wobble
    right[1]["data"].update(status="succeeded", error=None, elapsed_time=0.6)
    (row,) = compare_runs(
        RunRecord("x", "workflow", "succeeded", {}), RunRecord("y", "workflow", "succeeded", {}), left, right
    ).nodes
    assert row.differs == ()
