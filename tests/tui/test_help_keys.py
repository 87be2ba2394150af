"""F1 lists every key binding, and the README's key table is the same list (issue 10)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from difytui.tui.app import DifyConsole
from difytui.tui.screens.help import HelpScreen, help_rows, markdown_table

from .conftest import SIZE, apps_loaded, console, screen_text

README = Path(__file__).parents[2] / "README.md"


def readme_table() -> list[tuple[str, str, str]]:
    """The rows of the README's key table (the one under "## The console")."""
    section = README.read_text(encoding="utf-8").split("## The console", 1)[1]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "id" or cells[0].startswith("---"):
            continue
        rows.append(tuple(re.sub(r"^`(.*)`$", r"\1", cell) for cell in cells))
    return rows


def test_the_readme_key_table_is_what_f1_lists():
    expected = help_rows(DifyConsole.BINDINGS, {})
    assert readme_table() == expected, "README.md's key table should read:\n" + markdown_table(expected)


async def test_f1_shows_those_rows(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        await pilot.press("f1")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert screen.rows == help_rows(DifyConsole.BINDINGS, {})
        columns = [[str(cell) for cell in column.cells] for column in screen.table.columns]
        assert list(zip(*columns, strict=True)) == screen.rows
        assert "app.run" in screen_text(app)


def test_every_binding_has_an_id_and_a_description():
    from difytui.tui import keys
    from difytui.tui.screens import feedback, import_console, import_result
    from difytui.tui.widgets import chat_pane, pane, prompt, run_pane

    owners = [DifyConsole, HelpScreen, pane.AppPane, chat_pane.ChatPane, run_pane.RunPane, prompt.Prompt]
    owners.append(feedback.FeedbackScreen)
    owners += [
        v
        for module in (import_console, import_result)
        for v in vars(module).values()
        if isinstance(v, type) and v.__module__ == module.__name__
    ]
    bindings = [b for owner in owners for b in owner.__dict__.get("BINDINGS", [])]
    bindings += [value for value in vars(keys).values() if isinstance(value, Binding)]
    assert len(bindings) > 20
    for binding in bindings:
        assert isinstance(binding, Binding)
        assert binding.id and binding.description, binding


def _view_classes() -> list[type]:
    """Every screen class of difytui.tui.screens with two or more keys of its own (with ids)."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    from difytui.tui import screens

    found = []
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"{screens.__name__}.{info.name}")
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, Screen) and cls.__module__ == module.__name__:
                own = [b for b in vars(cls).get("BINDINGS", []) if isinstance(b, Binding) and b.id]
                if len(own) >= 2:
                    found.append(cls)
    return found


def readme_view_table(title: str) -> list[tuple[str, str, str]]:
    marker = f"Keys of the **{title}**"
    text = README.read_text(encoding="utf-8")
    assert marker in text, f"README.md should list the {title}'s keys under {marker!r}"
    rows = []
    for line in text.split(marker, 1)[1].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] != "id" and not cells[0].startswith("---"):
            rows.append(tuple(re.sub(r"^`(.*)`$", r"\1", cell) for cell in cells))
    return rows


def test_every_view_with_keys_of_its_own_lists_them_in_f1_and_the_readme():
    from difytui.tui.screens.help import markdown_table, view_keys
    from difytui.tui.screens.tests_view import TestsScreen

    views = _view_classes()
    assert TestsScreen in views
    for view in views:
        keys = view_keys(view, {})
        assert keys is not None, f"{view.__name__} has keys of its own: give it a HELP_TITLE"
        title, rows = keys
        expected = f"README.md's {title} table should read:\n" + markdown_table(rows)
        assert readme_view_table(title) == rows, expected


async def test_f1_in_the_tests_view_lists_its_keys_first(sim, tmp_path):
    from difytui.tui.screens.tests_view import TestsScreen

    from .test_tests_view import console_on, demo_cases, open_tests

    app = console_on(sim, demo_cases(tmp_path / "cases"))
    async with app.run_test(size=SIZE) as pilot:
        tests = await open_tests(pilot, app, "support-bot")
        await pilot.press("f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen.view is not None and help_screen.view[0] == "Tests view"
        assert [row[0] for row in help_screen.view[1]][:2] == ["tests.run_all", "tests.run_one"]
        assert help_screen.rows == help_rows(DifyConsole.BINDINGS, {})  # and every other key after
        await pilot.press("f1")
        assert app.screen is tests and isinstance(tests, TestsScreen)
