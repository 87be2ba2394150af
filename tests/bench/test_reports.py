"""The bench's reports: the text summary, the JSON report and JUnit XML, from suites run on the
simulator (server text included: hostile answers must not break XML or drive the terminal)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from difytui.bench import report_json, report_junit, report_text
from difytui.bench.compare import matrix
from difytui.bench.model import Target
from difytui.bench.record import Recorder
from difytui.bench.runner import run_suite
from difytui.store import Store
from tests.bench.bench_helpers import case, clients, contains, grade

HOSTILE = "evil \x1b[31mred\x1b[0m \x01soh \x07bell \x85c1 \ufffe end"


async def _mixed_suite(sim):
    """A pass, a fail and an error (a target on a dead server)."""
    cases = [
        case("passes", assertions=(contains("difytui"),)),
        case("fails", assertions=(contains("absent"),)),
    ]
    targets = [Target("support-bot"), Target("support-bot", "dead")]
    pool = clients(sim, dead="dead")
    suite = await run_suite(cases, pool, grade, targets=targets)
    await pool.aclose()
    return suite


async def test_junit_parses_with_one_testcase_per_case_and_target_and_the_right_counts(sim):
    suite = await _mixed_suite(sim)
    root = ET.fromstring(report_junit.to_xml(suite, elapsed=1.5))
    [testsuite] = root.findall("testsuite")
    assert (testsuite.get("tests"), testsuite.get("failures"), testsuite.get("errors")) == ("4", "1", "2")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "2")
    cases = {(tc.get("classname"), tc.get("name")): tc for tc in testsuite.findall("testcase")}
    assert set(cases) == {
        ("support.toml", "passes [support-bot]"),
        ("support.toml", "fails [support-bot]"),
        ("support.toml", "passes [dead:support-bot]"),
        ("support.toml", "fails [dead:support-bot]"),
    }
    passed = cases[("support.toml", "passes [support-bot]")]
    assert passed.find("failure") is None and passed.find("error") is None
    failure = cases[("support.toml", "fails [support-bot]")].find("failure")
    assert failure is not None and failure.get("type") == "contains"
    assert "'absent' not found" in (failure.get("message") or "")
    error = cases[("support.toml", "passes [dead:support-bot]")].find("error")
    assert error is not None and "127.0.0.1:9" in (error.get("message") or "")
    assert cases[("support.toml", "fails [dead:support-bot]")].find("failure") is None


async def test_server_text_with_control_characters_stays_valid_xml_and_inert_text(sim):
    hostile = case("hostile", turns=(HOSTILE,), assertions=(contains("never"),))
    pool = clients(sim)
    suite = await run_suite([hostile], pool, grade)
    await pool.aclose()
    assert HOSTILE in suite.results[0].runs[0].turns[0].answer  # the simulator echoed it

    xml = report_junit.to_xml(suite)
    root = ET.fromstring(xml)  # raises on a control character XML 1.0 cannot carry
    out = root.find("testsuite/testcase/system-out")
    assert out is not None and "evil ␛[31mred␛[0m \\x01soh \\x07bell \\x85c1 \\ufffe end" in (out.text or "")
    text = report_text.render(suite)
    assert "\x1b" not in text and "\x01" not in text and "\x07" not in text
    json.loads(report_json.dumps(suite))


async def test_the_text_summary_has_a_line_per_case_and_target_totals_and_reasons(sim):
    suite = await _mixed_suite(sim)
    lines = report_text.render(suite, elapsed=2.0).splitlines()
    assert lines[0].startswith("✓ support.toml › passes [support-bot]  1/1 passed  p50 ")
    assert lines[1].startswith("! support.toml › passes [dead:support-bot]  0/1 passed  — error: ")
    assert lines[2].startswith("✗ support.toml › fails [support-bot]  0/1 passed  p50 ")
    assert lines[2].endswith("— contains (line 7): 'absent' not found")
    assert lines[4] == "1 passed, 1 failed, 2 errors (4 cases × targets, 2.0 s)"


async def test_the_matrix_shows_targets_side_by_side_with_their_diff(sim):
    targets = [Target("support-bot"), Target("travel-agent")]
    pool = clients(sim)
    suite = await run_suite([case("hi")], pool, grade, targets=targets)
    await pool.aclose()
    text = report_text.render(suite)
    block = text.split("Targets side by side (verdict, p50 latency, tokens):\n")[1].splitlines()
    assert block[0] == "  support.toml › hi"
    assert block[1].startswith("    support-bot   ✓ 1/1  ") and block[1].endswith(" tokens")
    assert block[2].startswith("    travel-agent  ✓ 1/1  ")
    assert block[3:5] == ["    --- support-bot", "    +++ travel-agent"]
    report = report_json.to_dict(suite)
    [row] = report["comparison"]
    assert row["differs"] and row["diffs"]["travel-agent"].startswith("--- support-bot\n+++ travel-agent")


async def test_a_target_without_an_answer_is_not_the_same_answer_and_does_not_hide_the_others_diff(sim):
    # the first target is on a dead server: the two that answered are still compared
    targets = [Target("support-bot", "dead"), Target("support-bot"), Target("travel-agent")]
    pool = clients(sim, dead="dead")
    suite = await run_suite([case("hi")], pool, grade, targets=targets)
    await pool.aclose()
    [row] = matrix(suite)
    assert list(row.diffs) == [Target("travel-agent")]
    assert row.diffs[Target("travel-agent")].startswith("--- support-bot\n+++ travel-agent")
    assert row.unanswered == [Target("support-bot", "dead")]
    # one answer against an error is nothing to compare, not "the same answers"
    pool = clients(sim, dead="dead")
    suite = await run_suite([case("hi")], pool, grade, targets=targets[:2])
    await pool.aclose()
    text = report_text.render(suite)
    assert "(same answers)" not in text
    assert "  support.toml › hi  (no answer from dead:support-bot)" in text
    [row] = report_json.to_dict(suite)["comparison"]
    assert (row["differs"], row["unanswered"]) == (False, ["dead:support-bot"])


async def test_one_target_per_case_has_no_matrix(sim):
    pool = clients(sim)
    flow = case("report", app="report-builder", inputs={"topic": "t", "audience": "everyone"})
    suite = await run_suite([case("hi"), flow], pool, grade)
    await pool.aclose()
    assert "Targets side by side" not in report_text.render(suite)
    assert "comparison" not in report_json.to_dict(suite)


async def test_changed_answers_are_shown_with_their_diff(sim, tmp_path):
    store = Store(tmp_path / "state.db")
    pool = clients(sim)
    await run_suite([case("hi")], pool, grade, recorder=Recorder(store))
    suite = await run_suite(
        [case("hi", inputs={"product": "Dify Cloud"})], pool, grade, recorder=Recorder(store)
    )
    await pool.aclose()
    store.close()
    text = report_text.render(suite)
    changes = text.split("Changed since the previous run:\n")[1].splitlines()
    assert changes[0] == "  support.toml › hi [support-bot]"
    assert changes[1:3] == ["    --- previous run", "    +++ this run"]
    assert report_json.to_dict(suite)["results"][0]["changed"].startswith("--- previous run")


async def test_the_json_report_holds_every_run_and_assertion(sim, tmp_path):
    suite = await _mixed_suite(sim)
    path = tmp_path / "report.json"
    report_json.write(path, suite, elapsed=1.0)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["totals"] == {"cases": 4, "passed": 1, "failed": 1, "errors": 2, "not_run": 0}
    assert report["targets"] == ["support-bot", "dead:support-bot"]
    first = report["results"][0]
    assert (first["file"], first["case"], first["target"], first["verdict"]) == (
        "support.toml",
        "passes",
        "support-bot",
        "pass",
    )
    [run] = first["runs"]
    turn = run["turns"][0]
    assert turn["answer"] and turn["conversation_id"] and turn["task_id"] and turn["latency_s"]
    assert run["assertions"][1] == {"type": "contains", "line": 7, "passed": True, "reason": "found"}
    assert report["results"][1]["runs"][0]["error"]


async def test_no_key_in_any_report(sim, tmp_path):
    suite = await _mixed_suite(sim)
    reports = [report_text.render(suite), report_json.dumps(suite), report_junit.to_xml(suite)]
    for key in sim.api_keys.values():
        for text in reports:
            assert key not in text
