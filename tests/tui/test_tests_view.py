"""The Tests view (issue 9, "In the console"): the open app's saved cases, run through the bench's
runner against the simulator over loopback; Save as test case from the panes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from difytui.bench.case_files import load_cases
from difytui.config import Workspace
from difytui.demo import cases_dir
from difytui.sim import DEMO_APPS
from difytui.tui.app import DifyConsole
from difytui.tui.screens import tests_view

from .conftest import SIZE, open_app, run_done, screen_text, type_text, wait_until, workspace_for


def demo_cases(folder: Path) -> Path:
    """The demo's example cases, copied (Save as test case must not write into the package)."""
    shutil.copytree(cases_dir(), folder)
    return folder


def console_on(sim: Any, folder: Path) -> DifyConsole:
    workspace: Workspace = workspace_for(sim)
    workspace.cases_dir = folder
    app = DifyConsole(workspace)
    # The forms open filled in (as remembered from an earlier run): the demo cases' inputs.
    for case in load_cases([cases_dir()]):
        if not app.store.inputs(app.ws_key, case.app):
            app.store.set_inputs(app.ws_key, case.app, case.inputs)
    return app


async def open_tests(pilot: Any, app: DifyConsole, app_id: str) -> tests_view.TestsScreen:
    if app.current_pane is None:
        await open_app(pilot, app, app_id)
    elif app.current_pane.item.id != app_id:  # the next app (as Enter on the list opens it)
        app.open_app(app_id)
        await wait_until(pilot, lambda: app.current_pane.item.id == app_id, what=app_id)
    await pilot.press("ctrl+g")
    screen = await wait_until(
        pilot, lambda: isinstance(app.screen, tests_view.TestsScreen) and app.screen, what="Tests"
    )
    await wait_until(pilot, lambda: screen.loaded, what="cases loaded")
    return screen


async def run_keys(pilot: Any, screen: tests_view.TestsScreen, *keys: str) -> None:
    """Press ``keys`` (one of them starts a suite) and wait until the suite is over and recorded."""
    before = screen.suites_done
    await pilot.press(*keys)
    await wait_until(pilot, lambda: screen.suites_done > before, what="suite")
    await pilot.pause()


def session_cells(screen: tests_view.TestsScreen) -> list[str]:
    table = screen.table
    return [str(table.get_row(case.key)[2]) for case in screen.cases]


async def test_run_all_on_every_demo_app_shows_every_case_passing(sim, tmp_path):
    folder = demo_cases(tmp_path / "cases")
    expected = load_cases([folder])
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        for app_id in DEMO_APPS:
            names = [case.name for case in expected if case.app == app_id]
            if not names:  # the approval app: a run that waits for a person is not a test case
                continue
            screen = await open_tests(pilot, app, app_id)
            assert [case.name for case in screen.cases] == names
            assert screen.problems == []
            await run_keys(pilot, screen, "ctrl+r")
            assert [screen.results[case.key].verdict for case in screen.cases] == ["pass"] * len(names)
            assert all(cell.startswith("✓ pass") for cell in session_cells(screen)), session_cells(screen)
            # Recorded in the state like `difytui test`: the last-result column says so.
            assert all(str(screen.table.get_row(c.key)[1]).startswith("✓ pass") for c in screen.cases)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, tests_view.TestsScreen), what="back")
    # Through the simulator over loopback: the demo cases' own queries reached it.
    asked = {r.json.get("query") for r in sim.requests if r.path.endswith("/chat-messages")}
    assert {q for case in expected for q in case.turns} <= asked


CASE = """\
# a case the test edits between runs
[defaults]
app = "support-bot"
inputs = {{ product = "difytui" }}

[[case]]
name = "answers"
query = "{query}"

[[case.assert]]
type = "{check}"
value = "{value}"
"""


async def test_a_failing_case_shows_its_reason_and_the_diff_against_the_previous_run(sim, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    file = folder / "bot.toml"
    file.write_text(CASE.format(query="How do I add an app?", check="not-contains", value="zzz"))
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "support-bot")
        await run_keys(pilot, screen, "r")  # run one: the highlighted (only) case
        assert session_cells(screen)[0].startswith("✓ pass"), screen.results
        await pilot.press("escape")

        # The same case (file and name) asks something else now, and expects what is not there.
        file.write_text(CASE.format(query="Where is my data?", check="contains", value="zzz"))
        screen = await open_tests(pilot, app, "support-bot")
        assert session_cells(screen) == [""]
        assert str(screen.table.get_row(screen.cases[0].key)[1]).startswith("✓ pass")  # last recorded
        await run_keys(pilot, screen, "ctrl+r")
        assert session_cells(screen)[0].startswith("✗ fail")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.shown, what="detail")
        detail = str(screen.query_one("#tests-detail-text").render())
        assert "✗ contains (line 10): expected to contain 'zzz'; answer starts '## Re: Where" in detail
        assert "Changed since the previous run" in detail
        assert "--- previous run" in detail and "+++ this run" in detail
        assert "\n-## Re: How do I add an app?\n+## Re: Where is my data?" in detail
        assert "› Where is my data?" in detail  # the transcript

        # f runs the failed case again; Escape closes the detail, then the view.
        await run_keys(pilot, screen, "f")
        assert session_cells(screen)[0].startswith("✗ fail")
        await pilot.press("escape")
        assert screen.shown is None and isinstance(app.screen, tests_view.TestsScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, tests_view.TestsScreen), what="back")


BROKEN = """\
[defaults]
app = "support-bot"

[[case]]
name = "broken"
query = "hi"

[[case.assert]]
type = "contains"
valeu = "hi"
"""


async def test_a_broken_case_file_shows_file_and_line_and_the_console_keeps_running(sim, tmp_path):
    folder = demo_cases(tmp_path / "cases")
    (folder / "broken.toml").write_text(BROKEN)
    (folder / "not-toml.toml").write_text('[defaults]\napp = "support-bot"\nname = \n')
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "support-bot")
        problems = str(screen.query_one("#tests-problems").render())
        assert f"{folder / 'broken.toml'}:10: " in problems and "valeu" in problems
        assert f"{folder / 'not-toml.toml'}:3: " in problems
        # The other files' cases are listed and still run.
        assert [c.name for c in screen.cases] == [c.name for c in load_cases([folder / "support-bot.toml"])]
        await run_keys(pilot, screen, "ctrl+r")
        assert all(cell.startswith("✓ pass") for cell in session_cells(screen)), (
            session_cells(screen),
            str(screen.query_one("#tests-status").render()),
        )
        await pilot.press("escape")
        pane = app.current_pane
        pane.prompt.focus()
        await type_text(pilot, "hello")
        await pilot.press("enter")
        await run_done(pilot, pane)
        assert pane.last_answer


async def test_a_case_that_does_not_fit_the_app_names_its_line_and_does_not_run(sim, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "wf.toml").write_text('[[case]]\nname = "asks"\napp = "report-builder"\nquery = "hi"\n')
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "report-builder")
        problems = str(screen.query_one("#tests-problems").render())
        assert f"{folder / 'wf.toml'}:4: " in problems and "takes no query" in problems
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.suite is None
        assert not [r for r in sim.requests if r.path.endswith("/workflows/run")]


@pytest.mark.parametrize("app_id", ["support-bot", "report-builder", "copywriter"])
async def test_save_as_test_case_writes_a_case_that_loads_and_passes(sim, tmp_path, monkeypatch, app_id):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    folder = tmp_path / "cases"
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, app_id)
        await pilot.press("ctrl+s")  # nothing ran yet: nothing written
        assert not folder.exists()
        if app_id == "support-bot":
            pane.prompt.focus()
            for question in ("How do I add an app?", "And where is my data?"):
                await type_text(pilot, question)
                await pilot.press("enter")
                await run_done(pilot, pane)
        else:
            await pilot.press("ctrl+r")
            await run_done(pilot, pane)
        await pilot.press("ctrl+s")
        file = folder / f"{app_id}.toml"
        await wait_until(pilot, file.exists, what="the case file")
        assert any(f"{file}:" in str(n.message) for n in app._notifications), "says where it wrote"
        assert app.screen is app.screen_stack[0]  # no $EDITOR: no offer to open it
        (case,) = load_cases([file])
        if app_id == "support-bot":
            assert case.turns == ("How do I add an app?", "And where is my data?")
        assert {a.type for a in case.assertions} == {"status", "similar"}

        screen = await open_tests(pilot, app, app_id)
        assert [c.name for c in screen.cases] == [case.name]
        await run_keys(pilot, screen, "ctrl+r")
        assert screen.results[case.key].verdict == "pass", screen.results[case.key]


async def test_save_as_test_case_offers_the_editor_and_copes_without_a_terminal(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    folder = tmp_path / "cases"
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.id == "open-in-editor", what="the offer")
        assert "Open it in true?" in screen_text(app)
        await pilot.press("y")  # a test's terminal cannot suspend: said, and the console goes on
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0], what="offer closed")
        await wait_until(
            pilot,
            lambda: any("cannot hand over" in str(n.message) for n in app._notifications),
            what="the notice",
        )
        await pilot.press("ctrl+s")  # a second save: a second case, the offer again, declined
        await wait_until(pilot, lambda: app.screen.id == "open-in-editor", what="the offer")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0], what="offer closed")
        assert len(load_cases([folder / "copywriter.toml"])) == 2


async def test_compare_runs_every_case_on_both_apps_and_diffs_their_answers(sim, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "bot.toml").write_text(
        CASE.format(query="How do I add an app?", check="not-contains", value="zzz")
    )
    app = console_on(sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "support-bot")
        await pilot.press("c")
        picker = await wait_until(
            pilot, lambda: app.screen.id == "compare-picker" and app.screen, what="picker"
        )
        choices = [app_id for app_id, _name in picker.choices]
        assert "support-bot" not in choices and "travel-agent" in choices
        before = screen.suites_done
        await pilot.press(*["down"] * choices.index("travel-agent"), "enter")
        await wait_until(pilot, lambda: screen.suites_done > before, what="suite")
        key = screen.cases[0].key
        assert screen.results[key].target.app == "support-bot"
        assert screen.others[key].target.app == "travel-agent"
        assert str(screen.table.get_row(key)[3]).split()[0] in {"✓", "✗", "!"}  # the "vs" column
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.shown, what="detail")
        detail = str(screen.query_one("#tests-detail-text").render())
        assert "Between targets: support-bot ↔ travel-agent" in detail
        assert "--- support-bot\n+++ travel-agent" in detail


async def test_escape_stops_the_running_cases_on_the_server(stalled_sim, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "bot.toml").write_text(
        CASE.format(query="How do I add an app?", check="not-contains", value="zzz")
    )
    app = console_on(stalled_sim, folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "support-bot")
        key = screen.cases[0].key
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: str(screen.table.get_row(key)[2]) == "running…", what="first event")
        before = screen.suites_done
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.suites_done > before, what="suite stopped")
        assert [r for r in stalled_sim.requests if r.path.endswith("/stop")], "stopped on the server"
        assert str(screen.table.get_row(key)[2]) == "stopped"
        assert isinstance(app.screen, tests_view.TestsScreen)  # Escape stopped; it did not close


async def test_the_same_case_in_two_folders_is_listed_once_with_a_note(sim, tmp_path, monkeypatch):
    """--demo reads the shipped cases and the saved ones: the same file and case name in both."""
    saved = tmp_path / "data" / "demo-cases"
    saved.mkdir(parents=True)
    shutil.copy(cases_dir() / "copywriter.toml", saved / "copywriter.toml")
    workspace = workspace_for(sim)
    workspace.source = "demo"
    app = DifyConsole(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tests(pilot, app, "copywriter")
        assert [c.file for c in screen.cases] == [cases_dir() / "copywriter.toml"]
        problems = str(screen.query_one("#tests-problems").render())
        assert f"{saved / 'copywriter.toml'}:" in problems and "only that one is listed" in problems
