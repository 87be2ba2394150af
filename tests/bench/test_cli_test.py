"""``difytui test``: options, exit codes, reports, where the cases come from, and Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from difytui.cli import main

GOOD = """
[defaults]
app = "support-bot"
inputs = { product = "difytui" }

[[case]]
name = "greets"
query = "Bonjour"

[[case.assert]]
type = "icontains"
value = "bonjour"

[[case]]
name = "two turns"
turns = ["Hi", "And then?"]

[[case.assert]]
type = "contains"
value = "turn 2"
"""

FAILING = """
[[case]]
name = "wrong"
app = "support-bot"
inputs = { product = "difytui" }
query = "Hi"

[[case.assert]]
type = "contains"
value = "never in the answer"
"""


def _config(tmp_path: Path, sim, top: str = "", workspace: str = "") -> Path:
    text = sim.config_toml("demo").replace("[workspaces.demo]\n", f"[workspaces.demo]\n{workspace}", 1)
    path = tmp_path / "config.toml"
    path.write_text(top + "\n" + text, encoding="utf-8")
    return path


def _cases(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def _runs(sim) -> int:
    return sum(1 for r in sim.requests if r.method == "POST" and r.path.endswith("-messages"))


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as done:
        main(["test", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "PATH", "--target", "--filter", "--concurrency", "--repeat", "--json", "--junit", "--fail-fast",
        "--config", "--workspace", "--demo",
    ):  # fmt: skip
        assert option in out


def test_all_passing_exits_0_with_a_summary_on_stdout_and_progress_on_stderr(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD)
    assert main(["test", "--config", str(config), str(cases)]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0].startswith("✓ support.toml › greets [support-bot]  1/1 passed  p50 ")
    assert out[1].startswith("✓ support.toml › two turns [support-bot]  1/1 passed")
    assert out[2].startswith("2 passed, 0 failed, 0 errors (2 cases × targets, ")
    progress = captured.err.splitlines()  # not a terminal: one line per finished case
    assert sorted(line.split(" [")[0] for line in progress) == [
        "✓ support.toml › greets",
        "✓ support.toml › two turns",
    ]


def test_a_failing_case_exits_1_and_the_reports_are_written(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD, wrong=FAILING)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    argv = ["test", "--config", str(config), str(cases), "--json", str(report), "--junit", str(junit)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "✗ wrong.toml › wrong [support-bot]  0/1 passed" in out
    assert "— contains (line 8): expected to contain 'never in the answer'" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["totals"] == {"cases": 3, "passed": 2, "failed": 1, "errors": 0, "not_run": 0}
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    for text in (out, report.read_text(encoding="utf-8"), junit.read_text(encoding="utf-8")):
        for key in sim.api_keys.values():
            assert key not in text


def test_a_report_that_cannot_be_written_is_a_usage_error_before_anything_runs(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD)
    for option in ("--json", "--junit"):
        missing = tmp_path / "no-such-folder" / "report"
        assert main(["test", "--config", str(config), str(cases), option, str(missing)]) == 2
        assert f"difytui: {option} {missing}: no folder {missing.parent}" in capsys.readouterr().err
    assert _runs(sim) == 0


def test_a_bad_case_file_exits_2_naming_file_and_line_and_runs_nothing(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    bad = GOOD + '\n[[case]]\nname = "x"\nquery = "q"\ncolour = "red"\n'
    cases = _cases(tmp_path / "cases", support=bad)
    assert main(["test", "--config", str(config), str(cases)]) == 2
    err = capsys.readouterr().err
    assert f"{cases / 'support.toml'}:25:" in err and "colour" in err
    assert _runs(sim) == 0


def test_a_query_on_a_workflow_app_exits_2_and_runs_nothing(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    flow = '[[case]]\nname = "flow"\napp = "report-builder"\nquery = "hi"\n'
    cases = _cases(tmp_path / "cases", support=GOOD, flow=flow)
    assert main(["test", "--config", str(config), str(cases)]) == 2
    err = capsys.readouterr().err
    assert f"{cases / 'flow.toml'}:4:" in err and "workflow" in err
    assert _runs(sim) == 0


def test_an_unknown_app_or_target_exits_2(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD)
    assert main(["test", "--config", str(config), str(cases), "--target", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    assert main(["test", "--config", str(config), str(cases), "--target", "staging:support-bot"]) == 2
    assert "unknown workspace 'staging'" in capsys.readouterr().err
    assert _runs(sim) == 0


def test_bad_numbers_are_usage_errors(sim, tmp_path):
    config = _config(tmp_path, sim)
    for option in ("--concurrency", "--repeat"):
        with pytest.raises(SystemExit) as done:
            main(["test", "--config", str(config), option, "0"])
        assert done.value.code == 2
    # a runaway --repeat would build its runs up front until memory ran out
    with pytest.raises(SystemExit) as done:
        main(["test", "--config", str(config), "--repeat", "99999999999"])
    assert done.value.code == 2


def test_without_path_the_cases_folder_beside_the_config_is_used(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    _cases(tmp_path / "cases", support=GOOD)
    assert main(["test", "--config", str(config)]) == 0
    assert "2 passed" in capsys.readouterr().out


def test_cases_dir_from_the_config_and_from_the_workspace(sim, tmp_path, capsys):
    _cases(tmp_path / "top", support=GOOD)
    _cases(tmp_path / "mine", wrong=FAILING)
    config = _config(tmp_path, sim, top='cases_dir = "top"')
    assert main(["test", "--config", str(config)]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    config = _config(tmp_path, sim, top='cases_dir = "top"', workspace='cases_dir = "mine"\n')
    assert main(["test", "--config", str(config)]) == 1
    assert "0 passed, 1 failed" in capsys.readouterr().out


def test_a_missing_cases_folder_is_a_usage_error(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    assert main(["test", "--config", str(config)]) == 2
    assert f"no cases folder {tmp_path / 'cases'}" in capsys.readouterr().err


def test_filter_repeat_and_targets(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD)
    argv = ["test", "--config", str(config), str(cases), "--filter", "GREETS", "--repeat", "2"]
    argv += ["--target", "support-bot", "--target", "demo:travel-agent", "--target", "demo:travel-agent"]
    assert main(argv) == 0  # a target given twice runs once
    out = capsys.readouterr().out
    assert "✓ support.toml › greets [support-bot]  2/2 passed" in out
    assert "✓ support.toml › greets [demo:travel-agent]  2/2 passed" in out
    assert "two turns" not in out
    assert "    +++ demo:travel-agent" in out  # the targets' answers differ
    assert _runs(sim) == 4


def test_a_changed_answer_is_shown_on_the_next_run(sim, tmp_path, capsys):
    config = _config(tmp_path, sim)
    cases = _cases(tmp_path / "cases", support=GOOD)
    assert main(["test", "--config", str(config), str(cases)]) == 0
    assert "Changed since the previous run" not in capsys.readouterr().out
    _cases(tmp_path / "cases", support=GOOD.replace('product = "difytui"', 'product = "Dify Cloud"'))
    assert main(["test", "--config", str(config), str(cases)]) == 0
    out = capsys.readouterr().out
    assert "Changed since the previous run:\n  support.toml › greets [support-bot]" in out
    assert "+Hi there! Here is what I found about **Dify Cloud** (turn 1):" in out


def test_the_previous_run_is_of_the_same_workspace_when_cases_name_none(sim, tmp_path, capsys):
    # the cases run on the default workspace, chosen with --workspace: staging's first run has no
    # previous run, even though demo's answered differently before
    config = _config(tmp_path, sim)
    staging = "\n" + sim.config_toml("staging")
    config.write_text(config.read_text(encoding="utf-8") + staging, encoding="utf-8")
    cases = _cases(tmp_path / "cases", support=GOOD)
    assert main(["test", "--config", str(config), "--workspace", "demo", str(cases)]) == 0
    _cases(tmp_path / "cases", support=GOOD.replace('product = "difytui"', 'product = "Dify Cloud"'))
    assert main(["test", "--config", str(config), "--workspace", "staging", str(cases)]) == 0
    assert "Changed since the previous run" not in capsys.readouterr().out
    assert main(["test", "--config", str(config), "--workspace", "demo", str(cases)]) == 0
    assert "Changed since the previous run" in capsys.readouterr().out  # demo's own history


def test_ctrl_c_stops_in_flight_runs_on_the_server_and_writes_partial_reports(sim, tmp_path):
    config = _config(tmp_path, sim)
    quick = '[[case]]\nname = "quick"\napp = "copywriter"\ninputs = { product_name = "x", brief = "y" }\n'
    held = (
        '[[case]]\nname = "held"\napp = "support-bot"\ninputs = { product = "difytui" }\nquery = "Hold on"\n'
    )
    cases = _cases(tmp_path / "cases", a_quick=quick, b_held=held)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    sim.add_fault("/v1/chat-messages", "hold", after=2)  # the chat run holds until it is stopped
    argv = [sys.executable, "-m", "difytui", "test", "--config", str(config), str(cases)]
    argv += ["--concurrency", "1", "--json", str(report), "--junit", str(junit)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        held_tasks: list[str] = []
        while not held_tasks and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
            held_tasks = [t for t, run in sim.running_tasks.items() if run.query == "Hold on"]
        assert held_tasks, "the held run never started"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert held_tasks[0] in sim.stopped_tasks
    assert "interrupted" in err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["interrupted"] is True
    assert [r["case"] for r in data["results"]] == ["quick"]
    assert [r["case"] for r in data["not_run"]] == ["held"]
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.find("testsuite").get("skipped")) == ("2", "1")
    assert "1 not run (interrupted)" in out


def test_a_cases_dir_that_is_not_text_is_a_config_error_with_its_line(sim, tmp_path, capsys):
    config = _config(tmp_path, sim, top="cases_dir = 3")
    assert main(["test", "--config", str(config)]) == 2
    assert f"{config}:1: cases_dir must be a string" in capsys.readouterr().err


def test_demo_test_runs_the_demos_example_cases_and_they_all_pass(tmp_path, capsys):
    report = tmp_path / "demo.json"
    assert main(["--demo", "test", "--json", str(report)]) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["totals"]["cases"] >= 5 and data["totals"]["passed"] == data["totals"]["cases"]
    assert "0 failed, 0 errors" in capsys.readouterr().out
    assert main(["test", "--demo", "--target", "staging:support-bot"]) == 2  # the demo has one workspace
    assert "with --demo the only one is 'demo'" in capsys.readouterr().err


def test_on_a_terminal_progress_is_one_live_line(capsys):
    from difytui.bench.model import CaseResult, RunResult, Target
    from difytui.bench.runner import Progress
    from difytui.cli_test import _Progress
    from tests.bench.bench_helpers import case

    progress = _Progress(live=True)
    result = CaseResult(case("a"), Target("support-bot"), runs=[RunResult()])
    progress(Progress("start", result, result.runs[0], 0, 2))
    progress(Progress("run", result, result.runs[0], 0, 2))
    progress(Progress("case", result, None, 1, 2))
    progress.clear()
    err = capsys.readouterr().err
    assert err.split("\r\x1b[K")[1:] == [
        "[0/2] ✓ 0  ✗ 0  ! 0  running 1",
        "[0/2] ✓ 0  ✗ 0  ! 0  running 0",
        "[1/2] ✓ 1  ✗ 0  ! 0  running 0",
        "",
    ]


def test_a_second_ctrl_c_gives_up_the_stop_calls_but_still_writes_the_reports(sim, tmp_path):
    config = _config(tmp_path, sim)
    held = (
        '[[case]]\nname = "held"\napp = "support-bot"\ninputs = { product = "difytui" }\nquery = "Hold on"\n'
        '[[case]]\nname = "queued"\napp = "support-bot"\ninputs = { product = "difytui" }\nquery = "Hi"\n'
    )
    cases = _cases(tmp_path / "cases", held=held)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    sim.add_fault("/v1/chat-messages", "hold", after=2)  # the run holds until it is stopped…
    sim.add_fault("/v1/chat-messages/", "delay", seconds=60)  # …and its stop call hangs
    argv = [sys.executable, "-m", "difytui", "test", "--config", str(config), str(cases)]
    argv += ["--concurrency", "1", "--json", str(report), "--junit", str(junit)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_for(found) -> None:
        deadline = time.monotonic() + 60
        while not found() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert found()

    try:
        wait_for(lambda: any(run.query == "Hold on" for run in sim.running_tasks.values()))
        process.send_signal(signal.SIGINT)
        wait_for(lambda: any(r.path.endswith("/stop") for r in sim.requests))  # the stop call hangs
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)  # well before the stop's 60 s
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["interrupted"] is True
    assert data["results"] == []
    assert [(r["case"], r["target"]) for r in data["not_run"]] == [
        ("held", "support-bot"),
        ("queued", "support-bot"),
    ]
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.find("testsuite").get("skipped")) == ("2", "2")
    assert "2 not run (interrupted)" in out
