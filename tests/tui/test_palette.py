"""The command palette's own entries (issue 10, point 14): Screenshot says where it saved, or why
it could not; Escape closes every panel the palette opens."""

from __future__ import annotations

import os

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from difytui.tui.app import DifyConsole
from difytui.tui.screens.help import HelpScreen

from .conftest import SIZE, console, type_text, wait_until


async def _palette_command(pilot, app: DifyConsole, query: str) -> None:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
    await type_text(pilot, query)
    palette = app.screen
    hits = await wait_until(pilot, lambda: palette.query("CommandList"), what="hits")
    await wait_until(pilot, lambda: hits.first().option_count, what="hits")
    highlighted = hits.first().highlighted_option
    # Textual's own entry, not the console's "Help: keys".
    assert str(highlighted.prompt).lower().startswith(query), highlighted.prompt
    await pilot.press("enter")


def _notices(app: DifyConsole) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_the_screenshot_is_saved_in_the_data_dir_and_the_notice_says_where(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await _palette_command(pilot, app, "screenshot")
        saved = await wait_until(pilot, lambda: [n for n in _notices(app) if "screenshot" in n.lower()])
        folder = tmp_path / "data" / "screenshots"
        files = list(folder.glob("*.svg"))
        assert len(files) == 1 and files[0].read_text().startswith("<svg")
        assert saved == [f"Saved the screenshot to {files[0]}"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
async def test_a_screenshot_that_cannot_be_saved_says_why(sim, tmp_path):
    folder = tmp_path / "data" / "screenshots"
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await _palette_command(pilot, app, "screenshot")
        said = await wait_until(pilot, lambda: [n for n in _notices(app) if "screenshot" in n.lower()])
        assert said[0].startswith(f"Could not save the screenshot in {folder}: ")


async def test_a_screenshot_that_cannot_be_saved_says_why_even_as_root(sim, tmp_path):
    # A file where the folder should be: mkdir fails for everyone, root included.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "screenshots").write_text("not a folder")
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await _palette_command(pilot, app, "screenshot")
        said = await wait_until(pilot, lambda: [n for n in _notices(app) if "screenshot" in n.lower()])
        assert said == [f"Could not save the screenshot in {tmp_path / 'data' / 'screenshots'}: File exists"]


async def test_escape_closes_the_keys_panel(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        base = app.screen
        await _palette_command(pilot, app, "keys")
        await wait_until(
            pilot, lambda: isinstance(app.screen, HelpScreen) or base.query("HelpPanel"), what="the keys"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is base, what="back on the console")
        await pilot.pause()
        assert not base.query("HelpPanel")


async def test_escape_closes_the_theme_picker(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        base = app.screen
        await _palette_command(pilot, app, "theme")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, CommandPalette)
                and app.screen.query_one(Input).placeholder.startswith("Search for themes")
            ),
            what="the theme picker",
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is base, what="back on the console")


async def test_the_keys_entry_opens_the_f1_list(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await _palette_command(pilot, app, "keys")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="F1's list")
        assert not app.screen.query(Input)
