"""The console's view of the cases: file by file (a broken file does not hide the others), the
cases of one app, where they are read and saved, and what was recorded about them last."""

from __future__ import annotations

from difytui.bench.catalog import folders_for, load_catalog
from difytui.bench.last_results import last_results
from difytui.bench.model import AssertionResult, CaseResult, RunResult, SuiteResult, Target
from difytui.bench.record import Recorder
from difytui.config import Workspace
from difytui.demo import cases_dir
from difytui.store import Store
from tests.bench.bench_helpers import case, contains

GOOD = '[defaults]\napp = "support-bot"\n\n[[case]]\nname = "a"\nquery = "hi"\n'


def test_a_broken_file_keeps_its_problems_and_the_other_files_load(tmp_path):
    (tmp_path / "good.toml").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.toml").write_text(
        GOOD.replace("support-bot", "copywriter").replace('query = "hi"\n', "")
    )
    (tmp_path / "bad.toml").write_text(GOOD + 'repeat = "twice"\n')
    (tmp_path / ".hidden.toml").write_text("not toml")
    catalog = load_catalog([tmp_path, tmp_path / "missing"])
    assert [(c.rel, c.name) for c in catalog.cases] == [("good.toml", "a"), ("sub/other.toml", "a")]
    assert [(p.file.name, p.line) for p in catalog.problems] == [("bad.toml", 7)]
    assert [c.rel for c in catalog.for_app({"support-bot", "Support Bot"}, None)] == ["good.toml"]
    assert catalog.for_app({"support-bot"}, "elsewhere") == catalog.for_app({"support-bot"}, None)


def test_where_cases_are_read_and_saved(tmp_path):
    ws = Workspace(name="w", base_url="http://x/v1", user="u", apps={})
    assert folders_for(ws, None).save is None and "cases_dir" in folders_for(ws, None).why
    config = tmp_path / "config.toml"
    config.write_text('[workspaces.w]\nbase_url = "http://x/v1"\n')
    assert folders_for(ws, config).save == tmp_path / "cases"
    ws.cases_dir = tmp_path / "mine"
    assert folders_for(ws, config).read == (tmp_path / "mine",)
    demo = Workspace(name="demo", base_url="http://x/v1", user="u", apps={}, source="demo")
    folders = folders_for(demo, None)
    assert folders.read[0] == cases_dir() and folders.save is not None
    assert not folders.save.is_relative_to(cases_dir().parent)  # never into the installed package


def test_the_last_recorded_result_of_each_case_on_its_target(tmp_path):
    store = Store(tmp_path / "state.db")
    recorder = Recorder(store)
    flaky = case("flaky", pass_rate=0.5)
    older = SuiteResult(suite_id="older", started=1.0, targets=[])
    errored = CaseResult(flaky, Target("support-bot"), runs=[RunResult(error="boom")])
    newer = SuiteResult(suite_id="newer", started=2.0, targets=[])
    failing = RunResult(assertions=[AssertionResult(contains("zzz"), False, "no zzz")])
    mixed = CaseResult(flaky, Target("support-bot"), runs=[RunResult(), failing])
    for suite, result in ((older, errored), (newer, mixed)):
        recorder.begin(suite)
        recorder.record(suite, result)
    found = last_results(store, [flaky.key, "never::run"], "support-bot")
    assert list(found) == [flaky.key]
    last = found[flaky.key]
    assert last.verdicts == ("pass", "fail") and last.error is None
    assert (last.verdict(0.5), last.verdict(1.0)) == ("pass", "fail")
    assert [(a.label, a.line, a.passed, a.reason) for a in last.assertions] == [
        ("contains", 7, False, "no zzz")
    ]
    assert last_results(store, [flaky.key], "travel-agent") == {}
    store.close()
