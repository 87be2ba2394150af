"""The demo's example cases: shipped with the package, valid, and covering every assertion family."""

from __future__ import annotations

from difytui.bench.case_files import check_target, load_cases
from difytui.bench.model import ASSERTION_TYPES, Target
from difytui.demo import cases_dir
from difytui.sim import DEMO_APPS

#: The demo apps' interfaces, as the runner learns them from /info.
INTERFACES = {
    app_id: {"workflow": "workflow", "completion": "completion"}.get(app["mode"], "chat")
    for app_id, app in DEMO_APPS.items()
}


def _demo_cases():
    return load_cases([cases_dir()])


def test_the_demo_cases_load_and_fit_their_apps():
    cases = _demo_cases()
    assert {case.rel for case in cases} == {f"{app}.toml" for app in DEMO_APPS}
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
