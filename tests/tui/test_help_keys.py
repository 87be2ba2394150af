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
    from difytui.tui.screens import feedback, import_console
    from difytui.tui.widgets import chat_pane, pane, prompt, run_pane

    owners = [DifyConsole, HelpScreen, pane.AppPane, chat_pane.ChatPane, run_pane.RunPane, prompt.Prompt]
    owners.append(feedback.FeedbackScreen)
    owners += [
        v
        for v in vars(import_console).values()
        if isinstance(v, type) and v.__module__ == import_console.__name__
    ]
    bindings = [b for owner in owners for b in owner.__dict__.get("BINDINGS", [])]
    bindings += [value for value in vars(keys).values() if isinstance(value, Binding)]
    assert len(bindings) > 20
    for binding in bindings:
        assert isinstance(binding, Binding)
        assert binding.id and binding.description, binding
