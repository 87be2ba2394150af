"""The demo's example cases (shipped with the package, valid, covering every assertion family, all
passing against the simulator), and Save as test case writing a case that passes on the same app."""

from __future__ import annotations

import pytest

from difytui.bench.case_files import check_target, load_cases
from difytui.bench.case_writer import append_case, case_file
from difytui.bench.model import ASSERTION_TYPES, Target, TurnResult
from difytui.bench.runner import run_suite, standard_grader
from difytui.demo import cases_dir
from difytui.sim import DEMO_APPS
from tests.bench.bench_helpers import case as make_case
from tests.bench.bench_helpers import clients

#: The demo apps' interfaces, as the runner learns them from /info.
INTERFACES = {
    app_id: {"workflow": "workflow", "completion": "completion"}.get(app["mode"], "chat")
    for app_id, app in DEMO_APPS.items()
}


def _demo_cases():
    return load_cases([cases_dir()])


def test_the_demo_cases_load_and_fit_their_apps():
    cases = _demo_cases()
    # a run that waits for a person (the approval app's Human Input node) is not a test case
    graphs = {app_id: app.get("graph", []) for app_id, app in DEMO_APPS.items()}
    waits = {app_id for app_id, graph in graphs.items() if any(n["type"] == "human-input" for n in graph)}
    assert waits == {"approval"}
    assert {case.rel for case in cases} == {f"{app}.toml" for app in DEMO_APPS if app not in waits}
    for case in cases:
        check_target(case, Target(case.app), INTERFACES[case.app], graders=INTERFACES)


def test_the_demo_cases_use_every_assertion_type_and_negation():
    cases = _demo_cases()
    used = {a.type for case in cases for a in case.assertions}
    assert used == set(ASSERTION_TYPES)
    assert any(a.negate for case in cases for a in case.assertions)
    assert any(a.path for case in cases for a in case.assertions)
    assert any(a.turn for case in cases for a in case.assertions)


def test_the_demo_cases_cover_multi_turn_repeats_files_and_every_app_mode():
    cases = _demo_cases()
    assert any(len(case.turns) > 1 for case in cases)
    assert any(case.repeat > 1 and case.pass_rate < 1 for case in cases)
    attached = [f for case in cases for f in case.files]
    assert attached and all((cases_dir() / "sunset.png").samefile(f) for f in attached)
    assert {DEMO_APPS[case.app]["mode"] for case in cases} == {app["mode"] for app in DEMO_APPS.values()}


async def test_every_demo_case_passes_against_the_simulator(sim):
    """`difytui --demo test`, as a library call: every case and every one of its assertions pass."""
    cases = _demo_cases()
    pool = clients(sim)
    suite = await run_suite(cases, pool, standard_grader(), concurrency=4)
    await pool.aclose()

    failures = [
        f"{result.case.key}: {a.assertion.label}: {a.reason}"
        for result in suite.results
        for run in result.runs
        for a in run.assertions
        if not a.passed
    ] + [f"{r.case.key}: {run.error}" for r in suite.results for run in r.runs if run.error]
    assert failures == []
    assert [result.verdict for result in suite.results] == ["pass"] * len(cases)
    for result in suite.results:
        for run in result.runs:  # every assertion of the case was graded, none skipped
            assert {id(a.assertion) for a in run.assertions} >= {id(a) for a in result.case.assertions}
    judged = [a.reason for r in suite.results for a in r.runs[0].assertions if a.assertion.type == "judge"]
    assert len(judged) == 3 and all(reason.startswith("PASS:") for reason in judged)
    assert any(r.path == "/v1/files/upload" for r in sim.requests)  # the photo really went up


async def _first_run(sim, app: str, **fields) -> TurnResult:
    """What a run of ``app`` gave, as the console has it when the user saves it."""

    async def nothing(case, run, dify):
        return []

    pool = clients(sim)
    suite = await run_suite([make_case("seen", app=app, **fields)], pool, nothing)
    await pool.aclose()
    turn = suite.results[0].runs[0].last
    assert turn is not None and turn.status == "succeeded"
    return turn


@pytest.mark.parametrize(
    ("app", "fields"),
    [
        ("support-bot", {"turns": ("Hello", "And where is my data?"), "inputs": {"product": "Dify Cloud"}}),
        ("report-builder", {"inputs": {"topic": "SSE", "audience": "managers", "sections": 3}}),
        ("copywriter", {"inputs": {"product_name": "Tui", "brief": "A console"}}),
        # a file input, as the console has it: a path (saved as its text, uploaded again on replay)
        ("trip-planner", {"turns": ("Plan",), "inputs": {"city": "x", "photo": cases_dir() / "sunset.png"}}),
    ],
)
async def test_a_saved_case_loads_and_passes_against_the_same_app(sim, tmp_path, app, fields):
    turn = await _first_run(sim, app, **fields)
    path = case_file(tmp_path / "cases", app)
    path.parent.mkdir()
    path.write_text("# my cases\n", encoding="utf-8")
    saved = append_case(
        path,
        app=app,
        name="saved from the console",
        inputs=fields["inputs"],
        turns=list(fields.get("turns", ())),
        answer_or_outputs=turn.outputs if turn.outputs is not None else turn.answer,
        status=turn.status,
    )
    assert path.read_text(encoding="utf-8").startswith("# my cases\n")

    [loaded] = load_cases([path.parent])
    assert loaded.name == saved.name and [a.type for a in loaded.assertions] == ["status", "similar"]
    pool = clients(sim)
    suite = await run_suite([loaded], pool, standard_grader())
    await pool.aclose()
    [result] = suite.results
    assert [(a.assertion.label, a.passed) for a in result.runs[0].assertions] >= [
        ("status", True),
        ("similar", True),
    ]
    assert result.verdict == "pass"
