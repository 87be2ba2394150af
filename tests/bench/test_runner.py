"""The bench's runner over loopback against the simulator: conversations, repeats, targets, records,
errors that leave the rest of the suite running, timeouts and Ctrl+C stopping runs on the server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from difytui.bench import report_text
from difytui.bench.compare import matrix
from difytui.bench.model import Assertion, Target, Where
from difytui.bench.record import Recorder
from difytui.bench.runner import Progress, run_suite, standard_grader
from difytui.store import Store
from tests.bench.bench_helpers import case, clients, contains, grade, held_run
from tests.faults.clock import ManualClock


def _chat_bodies(sim) -> list[dict]:
    return [r.json for r in sim.requests if r.method == "POST" and r.path == "/v1/chat-messages"]


async def test_a_multi_turn_case_keeps_one_conversation_and_resends_inputs(sim):
    many = case("two turns", turns=("Bonjour", "And tomorrow?"), inputs={"product": "Dify Cloud"})
    pool = clients(sim)
    suite = await run_suite([many], pool, grade)
    await pool.aclose()

    [result] = suite.results
    [run] = result.runs
    assert run.error is None and [t.status for t in run.turns] == ["succeeded", "succeeded"]
    first, second = run.turns
    assert first.conversation_id and second.conversation_id == first.conversation_id
    bodies = _chat_bodies(sim)
    assert [b["query"] for b in bodies] == ["Bonjour", "And tomorrow?"]
    assert [b["inputs"] for b in bodies] == [{"product": "Dify Cloud"}] * 2
    assert "conversation_id" not in bodies[0] and bodies[1]["conversation_id"] == first.conversation_id
    assert "turn 2" in second.answer and "Dify Cloud" in second.answer


async def test_a_turn_records_timing_usage_and_ids(sim):
    pool = clients(sim)
    suite = await run_suite([case("one")], pool, grade)
    await pool.aclose()
    turn = suite.results[0].runs[0].turns[0]
    assert turn.latency_s is not None and turn.first_token_s is not None
    assert 0 < turn.first_token_s <= turn.latency_s
    assert turn.tokens and turn.tokens > 0 and turn.cost and turn.cost > 0
    assert turn.task_id and turn.message_id and turn.conversation_id


async def test_a_workflow_run_gives_outputs_nodes_tokens_and_cost(sim):
    flow = case("report", app="report-builder", inputs={"topic": "tests", "audience": "everyone"})
    pool = clients(sim)
    suite = await run_suite([flow], pool, grade)
    await pool.aclose()
    run = suite.results[0].runs[0]
    turn = run.turns[0]
    assert run.error is None and turn.status == "succeeded"
    assert isinstance(turn.outputs, dict) and turn.outputs
    assert turn.nodes and all(node.status == "succeeded" for node in turn.nodes)
    assert turn.tokens and turn.workflow_run_id


@pytest.mark.parametrize(("pass_rate", "verdict"), [(0.6, "pass"), (1.0, "fail")])
async def test_repeats_pass_when_enough_of_them_pass(sim, pass_rate, verdict):
    calls = []

    async def two_of_three(case_, run, dify):
        calls.append(run)
        results = await grade(case_, run, dify)
        if len(calls) == 2:
            results[0].passed = False
        return results

    pool = clients(sim)
    suite = await run_suite(
        [case("thrice", repeat=3, pass_rate=pass_rate)], pool, two_of_three, concurrency=1
    )
    await pool.aclose()
    [result] = suite.results
    assert len(result.runs) == 3 and result.passed_runs == 2
    assert result.verdict == verdict


async def test_repeat_replaces_the_cases_own(sim):
    pool = clients(sim)
    suite = await run_suite([case("once", repeat=3)], pool, grade, repeat=2)
    await pool.aclose()
    assert len(suite.results[0].runs) == 2 and len(_chat_bodies(sim)) == 2


async def test_targets_make_a_matrix_that_shows_where_answers_differ(sim):
    same = case("same", inputs={"product": "difytui"})
    targets = [Target("support-bot"), Target("support-bot", "staging"), Target("travel-agent")]
    pool = clients(sim)
    suite = await run_suite([same], pool, grade, targets=targets)
    await pool.aclose()

    assert [r.target for r in suite.results] == targets
    assert all(r.runs[0].error is None for r in suite.results)
    [row] = matrix(suite)
    assert list(row.results) == targets
    assert Target("support-bot", "staging") not in row.diffs  # the same app answers the same
    diff = row.diffs[Target("travel-agent")]
    assert diff.startswith("--- support-bot\n+++ travel-agent")


async def test_the_answer_changed_since_the_previous_recorded_run(sim, tmp_path):
    store = Store(tmp_path / "state.db")
    recorder = Recorder(store)
    pool = clients(sim)
    first = await run_suite([case("greets")], pool, grade, recorder=recorder)
    again = await run_suite([case("greets")], pool, grade, recorder=recorder)
    other = case("greets", inputs={"product": "Dify Cloud"})
    changed = await run_suite([other], pool, grade, recorder=recorder)
    await pool.aclose()

    assert first.results[0].changed is None  # never run before
    assert again.results[0].changed is None  # the same answer
    diff = changed.results[0].changed
    assert diff is not None and "-Hi there! Here is what I found about **difytui**" in diff
    assert "+Hi there! Here is what I found about **Dify Cloud**" in diff
    assert recorder.suite_count() == 3
    store.close()


async def test_a_suite_is_recorded_without_any_key(sim, tmp_path):
    store = Store(tmp_path / "state.db")
    pool = clients(sim)
    suite = await run_suite(
        [case("greets", assertions=(contains("difytui"),))], pool, grade, recorder=Recorder(store)
    )
    await pool.aclose()
    store.close()
    raw = (tmp_path / "state.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("state.db-*"))
    for key in sim.api_keys.values():
        assert key.encode() not in raw
    import sqlite3

    with sqlite3.connect(tmp_path / "state.db") as conn:
        [(data, verdict, target)] = conn.execute("SELECT data, verdict, target FROM bench_runs").fetchall()
        [(suite_id,)] = conn.execute("SELECT suite_id FROM bench_suites").fetchall()
    record = json.loads(data)
    assert suite_id == suite.suite_id and verdict == "pass" and target == "support-bot"
    turn = record["turns"][0]
    assert turn["conversation_id"] and turn["task_id"] and turn["latency_s"] and turn["tokens"]
    assert record["assertions"][1] == {"type": "contains", "line": 7, "passed": True, "reason": "found"}


async def test_a_dead_server_errors_its_runs_and_the_rest_complete(sim):
    cases = [case("a"), case("b")]
    targets = [Target("support-bot", "dead"), Target("support-bot")]
    pool = clients(sim, dead="dead")
    suite = await run_suite(cases, pool, grade, targets=targets)
    await pool.aclose()
    verdicts = {(r.case.name, r.target.label): r.verdict for r in suite.results}
    assert verdicts == {
        ("a", "dead:support-bot"): "error",
        ("a", "support-bot"): "pass",
        ("b", "dead:support-bot"): "error",
        ("b", "support-bot"): "pass",
    }
    dead = suite.results[0].runs[0].error
    assert dead is not None and "127.0.0.1:9" in dead


async def test_a_500_mid_suite_errors_that_run_with_difys_code_and_the_rest_complete(sim):
    body = json.dumps({"code": "internal_server_error", "message": "The server broke", "status": 500})
    cases = [case(name) for name in "abcd"]
    pool = clients(sim)
    done: list[str] = []

    def progress(event: Progress) -> None:
        if event.kind == "case":
            done.append(event.result.case.name)
            if len(done) == 1:  # after the first case: the next request meets the fault
                sim.add_fault("/v1/chat-messages", "status", status=500, body=body)

    suite = await run_suite(cases, pool, grade, concurrency=1, on_progress=progress)
    await pool.aclose()
    assert [r.verdict for r in suite.results] == ["pass", "error", "pass", "pass"]
    assert suite.results[1].runs[0].error == "Dify error 500 internal_server_error: The server broke"


async def test_a_streamed_error_event_is_an_error_with_its_code(sim):
    sim.add_fault("/v1/chat-messages", "error", after=2, code="completion_request_error", message="quota")
    pool = clients(sim)
    suite = await run_suite([case("x")], pool, grade)
    await pool.aclose()
    assert suite.results[0].verdict == "error"
    assert suite.results[0].runs[0].error == "completion_request_error: quota"


async def test_429_waits_for_retry_after_and_retries(sim):
    body = json.dumps({"code": "too_many_requests", "message": "slow down", "status": 429})
    sim.add_fault("/v1/chat-messages", "status", status=429, body=body, headers={"Retry-After": "0"})
    pool = clients(sim)
    suite = await run_suite([case("x")], pool, grade)
    await pool.aclose()
    assert suite.results[0].verdict == "pass"
    assert len(_chat_bodies(sim)) == 2


async def test_a_turn_past_its_timeout_is_stopped_on_the_server_and_is_an_error(sim):
    sim.add_fault("/v1/chat-messages", "hold", after=3)
    # The timeout is read on the clients' clock, which passes it once the run is held on the server:
    # on the real clock a loaded machine may pass it before the run even started (nothing to stop).
    clock = ManualClock()
    mover = clock.advance_when(held_run(sim), 1.0)
    pool = clients(sim, clock=clock)
    # One at a time: the one-shot fault is the first request's, and that must be the slow case's.
    suite = await run_suite([case("slow", timeout_s=0.5), case("fine")], pool, grade, concurrency=1)
    await pool.aclose()
    assert mover.moved()
    slow, fine = suite.results
    turn = slow.runs[0].turns[0]
    assert slow.verdict == "error" and fine.verdict == "pass"
    assert turn.task_id in sim.stopped_tasks
    assert slow.runs[0].error == f"timed out after 0.5 s; stopped task {turn.task_id} on the server"


async def test_cancelling_the_suite_stops_in_flight_runs_and_returns_the_partial_result(sim, tmp_path):
    for _ in range(2):
        sim.add_fault("/v1/chat-messages", "hold", after=2)
    started: list[Progress] = []
    both = asyncio.Event()

    def progress(event: Progress) -> None:
        if event.kind == "start":
            started.append(event)
            if len(started) == 2:
                both.set()

    store = Store(tmp_path / "state.db")
    pool = clients(sim)
    cases = [case(name) for name in ("held 1", "held 2", "never")]
    task = asyncio.create_task(
        run_suite(cases, pool, grade, concurrency=2, on_progress=progress, recorder=Recorder(store))
    )
    await both.wait()
    task.cancel()
    suite = await task
    await pool.aclose()
    store.close()

    assert suite.interrupted and suite.results == []
    held = {e.run.turns[0].task_id for e in started}
    assert held <= set(sim.stopped_tasks) and len(held) == 2
    assert len(_chat_bodies(sim)) == 2  # the third case never started


async def test_cancelling_before_the_first_event_still_stops_the_run(sim):
    """The first event names the task: a run cancelled while waiting for it is still stopped."""
    sim.add_fault("/v1/chat-messages", "delay", seconds=0.3)
    sim.add_fault("/v1/chat-messages", "hold", after=1)
    pool = clients(sim)
    task = asyncio.create_task(run_suite([case("x")], pool, grade))
    while not _chat_bodies(sim):
        await asyncio.sleep(0.01)
    task.cancel()
    suite = await task
    await pool.aclose()
    assert suite.interrupted
    assert len(sim.stopped_tasks) == 1


async def test_fail_fast_stops_after_the_first_failing_case(sim):
    cases = [case("fails", assertions=(contains("never said"),)), case("b"), case("c")]
    pool = clients(sim)
    suite = await run_suite(cases, pool, grade, concurrency=1, fail_fast=True)
    await pool.aclose()
    assert [r.case.name for r in suite.results] == ["fails"]
    assert suite.results[0].verdict == "fail" and not suite.interrupted
    assert [r.case.name for r in suite.not_run] == ["b", "c"]  # the reports say what did not run
    assert "1 failed, 0 errors (1 cases × targets" in report_text.totals(suite)
    assert "2 not run (--fail-fast)" in report_text.totals(suite)


async def test_an_unknown_app_is_an_error_for_its_runs(sim):
    pool = clients(sim)
    suite = await run_suite([case("x", app="nope"), case("y")], pool, grade)
    await pool.aclose()
    assert [r.verdict for r in suite.results] == ["error", "pass"]
    assert "nope" in (suite.results[0].runs[0].error or "")


async def test_the_standard_grader_judges_through_a_grader_app_of_the_same_workspace(sim):
    def judged(rubric: str) -> Assertion:
        return Assertion(
            type="judge", where=Where(Path("/cases/support.toml"), 9), app="grader", value=rubric
        )

    cases = [
        case("judged well", assertions=(judged('mentions "difytui"'),)),
        case("judged badly", assertions=(judged('mentions "pizza"'),)),
    ]
    pool = clients(sim)
    suite = await run_suite(cases, pool, standard_grader())
    await pool.aclose()
    good, bad = suite.results
    assert good.verdict == "pass" and bad.verdict == "fail"
    [verdict] = bad.runs[0].assertions
    assert verdict.reason == 'FAIL: the answer does not mention "pizza".'
    graded = [r.json for r in sim.requests if r.method == "POST" and r.path == "/v1/chat-messages"]
    assert len(graded) == 4  # two cases, two judgements


async def test_a_target_is_looked_up_once_however_many_runs_start_together(sim):
    pool = clients(sim)
    suite = await run_suite([case(str(n)) for n in range(6)], pool, grade, concurrency=6)
    await pool.aclose()
    assert [r.verdict for r in suite.results] == ["pass"] * 6
    # the app, and its form (which inputs are files)
    assert [r.path for r in sim.requests if r.method == "GET"] == ["/v1/info", "/v1/parameters"]


async def test_the_recorded_suites_are_bounded(sim, tmp_path, monkeypatch):
    from difytui.bench import record

    monkeypatch.setattr(record, "SUITES_KEPT", 2)
    store = Store(tmp_path / "state.db")
    recorder = Recorder(store)
    pool = clients(sim)
    suites = [await run_suite([case("x")], pool, grade, recorder=recorder) for _ in range(3)]
    await pool.aclose()
    kept = store.read([], lambda conn: conn.execute("SELECT DISTINCT suite_id FROM bench_runs").fetchall())
    assert recorder.suite_count() == 2
    assert {row[0] for row in kept} == {suites[1].suite_id, suites[2].suite_id}
    store.close()


async def test_a_file_input_takes_a_path_beside_the_case_file_or_a_url(sim, tmp_path):
    from difytui.bench.case_files import load_cases
    from difytui.demo import cases_dir

    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "sunset.png").write_bytes((cases_dir() / "sunset.png").read_bytes())
    path = tmp_path / "files.toml"
    path.write_text(
        '[[case]]\nname = "photo"\napp = "trip-planner"\nquery = "Plan"\n'
        'inputs = { city = "Lyon", photo = "pics/sunset.png" }\n'
        '[[case]]\nname = "attachments"\napp = "report-builder"\n'
        'inputs = { topic = "T", audience = "engineers", '
        'attachments = ["pics/sunset.png", "https://example.com/a.pdf"] }\n',
        encoding="utf-8",
    )
    pool = clients(sim)
    suite = await run_suite(load_cases([path]), pool, grade)
    await pool.aclose()
    assert [run.error for r in suite.results for run in r.runs] == [None, None]
    uploads = [r for r in sim.requests if r.path == "/v1/files/upload"]
    assert len(uploads) == 2  # the photo, and the attachment that is not a URL
    attachments = next(r.json for r in sim.requests if r.path == "/v1/workflows/run")["inputs"]["attachments"]
    assert [a["transfer_method"] for a in attachments] == ["local_file", "remote_url"]
