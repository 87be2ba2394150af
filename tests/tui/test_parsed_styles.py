"""The first frame's stylesheets are parsed at the first start only: later starts read Textual's parse
back from the data directory, and anything that does not match it is parsed as usual."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.css import stylesheet as textual_stylesheet
from textual.css.stylesheet import Stylesheet

from difytui import paths
from difytui.tui.app import DifyConsole
from difytui.tui.parsed_styles import PARSED_STYLES, ParsedStyles

from .conftest import SIZE, console


@pytest.fixture
def parses(monkeypatch) -> list[object]:
    """Every parse Textual's parser makes (where each stylesheet's CSS is parsed), by location."""
    made: list[object] = []
    parse = textual_stylesheet.parse

    def counted(scope, css, read_from, **kwargs):
        made.append(read_from)
        return parse(scope, css, read_from, **kwargs)

    monkeypatch.setattr(textual_stylesheet, "parse", counted)
    return made


class FirstFrame(DifyConsole):
    """Exits at the first frame with the rules its stylesheet held."""

    def on_ready(self, event: events.Ready) -> None:
        event.prevent_default()  # DifyConsole's: nothing after the first frame
        self.exit([rule.css for rule in self.stylesheet.rules])


async def first_frame(sim) -> list[str]:
    return await FirstFrame(console(sim).workspace).run_async(headless=True, size=SIZE)


async def test_a_second_start_parses_none_of_the_first_frames_stylesheets(sim, parses):
    first = await first_frame(sim)
    assert parses and (paths.data_dir() / PARSED_STYLES).is_file()
    parses.clear()
    second = await first_frame(sim)
    assert parses == []
    assert second == first  # the very rules Textual parsed


async def test_a_damaged_file_means_parsing_as_usual_and_a_good_one_next_time(sim, parses):
    saved = paths.data_dir() / PARSED_STYLES
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(b"\x80\x05not a pickle")
    rules = await first_frame(sim)
    assert parses
    parses.clear()
    assert await first_frame(sim) == rules
    assert parses == []


CSS = "#box { background: $primary; color: $text; }"


def _parsed(path: Path, variables: dict[str, str]) -> list[str]:
    stylesheet = Stylesheet(variables=variables)
    parsed = ParsedStyles(path)
    parsed.install(stylesheet)
    stylesheet.add_source(CSS, read_from=("test", "CSS"))
    stylesheet.parse()
    parsed.save()
    return [rule.css for rule in stylesheet.rules]


def test_another_theme_is_parsed_afresh(tmp_path, parses):
    path = tmp_path / PARSED_STYLES
    dark = {"primary": "#004578", "text": "#eeeeee"}
    light = {"primary": "#ffd700", "text": "#111111"}
    assert "#004578" in _parsed(path, dark)[0].lower()
    parses.clear()
    assert "#ffd700" in _parsed(path, light)[0].lower()  # not the dark theme's colours
    assert parses
    parses.clear()
    _parsed(path, light)
    assert parses == []  # the file now holds the light theme's


def test_the_stylesheet_is_textuals_own_again_once_saved(tmp_path):
    stylesheet = Stylesheet()
    parsed = ParsedStyles(tmp_path / PARSED_STYLES)
    parsed.install(stylesheet)
    parsed.save()
    assert "_parse_rules" not in vars(stylesheet)


def test_rules_that_cannot_be_kept_are_only_not_kept(tmp_path, monkeypatch):
    """A start never fails for the file: a rule pickle cannot write (a later Textual's), a data
    directory that cannot be written."""

    def refuse(*args, **kwargs):
        raise TypeError("cannot pickle")

    monkeypatch.setattr("difytui.tui.parsed_styles.pickle.dumps", refuse)
    path = tmp_path / PARSED_STYLES
    assert "#004578" in _parsed(path, {"primary": "#004578", "text": "#eeeeee"})[0].lower()
    assert not path.exists() and not list(tmp_path.iterdir())
    monkeypatch.undo()
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    _parsed(blocked / PARSED_STYLES, {"primary": "#004578", "text": "#eeeeee"})  # mkdir fails: no error


async def test_a_second_start_tokenizes_none_of_the_themes_variables(sim, monkeypatch):
    """Nor does any text on the first frame need them: a style string on a whole Text is parsed as
    markup, and the first such parse tokenized every variable of the theme (~1 ms)."""
    await first_frame(sim)
    tokenized: list[int] = []
    tokenize = textual_stylesheet.tokenize_values

    def counted(values):
        tokenized.append(len(values))
        return tokenize(values)

    monkeypatch.setattr(textual_stylesheet, "tokenize_values", counted)
    await first_frame(sim)
    assert tokenized == []
