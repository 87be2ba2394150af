"""Streamed answers (AnswerView) in a pilot app: flushes never interleave, pieces render as the whole
text does, and answers far off screen keep their text instead of their widgets."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console
from textual.app import App, ComposeResult

from difytui.tui.app import styles_dir
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.breaks import BreakScanner, link_definitions
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import ResponseLog

from .conftest import log_settled

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dogs",
    "while",
    "streaming",
    "markdown",
    "tokens",
    "into",
    "panes",
]


def markdown_tokens(n: int) -> list[str]:
    """About n tokens of an ordinary answer: headings, paragraphs, lists (one loose, across blank
    lines), code fences (one with a blank line inside) and tables."""
    out: list[str] = []
    section = 0
    while len(out) < n:
        section += 1
        out.append(f"## Section {section}\n\n")
        for p in range(2):
            out += [f"{WORDS[(section + p + k) % len(WORDS)]} " for k in range(30)]
            out.append("done.\n\n")
        out += ["- first ", "item\n", "- second ", "item\n\n", "1. one\n\n", "2. two\n", "   more of two\n\n"]
        out += ["```python\n", "def f(x):\n", "    return x\n", "\n", "print(f(1))\n", "```\n\n"]
        out += ["| name | count |\n", "|---|---:|\n", f"| a{section} | 1 |\n", "| b | 2 |\n\n"]
    return out[:n]


class LogApp(App[None]):
    CSS_PATH = str(styles_dir() / "app.tcss")

    def compose(self) -> ComposeResult:
        yield ResponseLog(id="log")


def screen_text(app: App[Any]) -> str:
    width, height = app.size
    out = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    out.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return out.export_text()


async def stream(answer: AnswerView, tokens: list[str]) -> None:
    """Tokens a few at a time with short pauses: flushes by the timer and by write() overlap."""
    for index, token in enumerate(tokens):
        await answer.write(token)
        if index % 24 == 0:
            await asyncio.sleep(0.001)
    await answer.finish()


def shown_pieces(answer: AnswerView) -> list[LinePiece]:
    return list(answer.query_children(LinePiece))


# Ten 4k-token answers take about 45 s alone and twice that beside another xdist worker: this is
# the hang guard for a long test, not a speed limit.
@pytest.mark.timeout(400)
async def test_a_long_markdown_answer_streams_ten_times_without_an_error_or_a_stray_piece():
    tokens = markdown_tokens(4000)
    text = "".join(tokens)
    app = LogApp()
    async with app.run_test(size=(80, 16)) as pilot:  # a small screen: fewer pieces on it
        log = app.query_one(ResponseLog)
        for _ in range(10):
            answer = AnswerView()
            await log.add(answer)
            await stream(answer, tokens)
            await log_settled(pilot, log)
            assert answer.text == text and answer.rendered
            # Every widget is a sealed piece, in order, and holds exactly that piece's text.
            pieces = answer.pieces
            assert "".join(p.text for p in pieces) == text
            widgets = [p.widget for p in pieces if p.widget is not None]
            assert shown_pieces(answer) == widgets
            assert all(p.widget.source == p.text for p in pieces if p.widget is not None)
            await log.remove_children()
        assert app._exception is None


async def test_pieces_are_sealed_at_the_block_count_even_under_a_burst():
    tokens = markdown_tokens(3000)
    app = LogApp()
    async with app.run_test(size=(100, 40)) as pilot:
        answer = AnswerView()
        log = app.query_one(ResponseLog)
        await log.add(answer)
        for token in tokens:  # no pause at all: the text runs ahead of the screen
            await answer.write(token)
        await answer.finish()
        await log_settled(pilot, log)
        assert answer.text == "".join(tokens)
        # Each piece is SEAL_BLOCKS texts between breaks, however the tokens came in.
        *sealed, last = answer.pieces
        assert sealed and all(len(BreakScanner().feed(p.text)) == AnswerView.SEAL_BLOCKS - 1 for p in sealed)
        assert len(BreakScanner().feed(last.text)) < AnswerView.SEAL_BLOCKS


async def test_pieces_render_exactly_as_the_whole_answer():
    tokens = markdown_tokens(400)
    text = "".join(tokens)
    size = (100, 400)  # the whole answer on one screen
    streamed = LogApp()
    async with streamed.run_test(size=size) as pilot:
        answer = AnswerView()
        log = streamed.query_one(ResponseLog)
        await log.add(answer)
        AnswerView.SEAL_BLOCKS, seal = 4, AnswerView.SEAL_BLOCKS  # many pieces in a short text
        try:
            await stream(answer, tokens)
        finally:
            AnswerView.SEAL_BLOCKS = seal
        await log_settled(pilot, log)
        assert len(answer.pieces) > 5
        pieces_shown = screen_text(streamed)
    assert await whole_answer_screen(text, size) == pieces_shown


async def whole_answer_screen(text: str, size: tuple[int, int]) -> str:
    """The screen of an answer's frame holding one piece of the whole text."""
    whole = LogApp()
    async with whole.run_test(size=size) as pilot:
        answer = AnswerView()
        await whole.query_one(ResponseLog).add(answer)
        piece = LinePiece(classes="answer-piece")
        piece.add_part(text)
        await answer.mount(piece, before=answer.status_line)
        answer._set_status("", "-done")
        await pilot.pause()
        await pilot.pause()
        return screen_text(whole)


async def test_answers_far_off_screen_keep_their_text_not_their_widgets():
    tokens = markdown_tokens(1500)
    text = "".join(tokens)
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(ResponseLog)
        answers = []
        for _ in range(6):
            answer = AnswerView()
            answers.append(answer)
            await log.add(answer)
            for token in tokens:
                await answer.write(token)
            await answer.finish()
        await log_settled(pilot, log)
        # Only what is near the viewport (the end of the last answer) is rendered.
        assert all(not shown_pieces(a) for a in answers[:-1])
        assert 0 < len(shown_pieces(answers[-1])) < len(answers[-1].pieces)
        # Scrolling back renders the first answer's pieces again, exactly.
        # Immediate: a deferred scroll waits for a frame with nothing recorded that it is due.
        log.scroll_home(animate=False, immediate=True)
        # The windows' move is due now: log_settled must wait for it (every answer alone still looks
        # settled here; waiting on them only, with the scroll deferred, was the flake).
        assert not log.settled and all(a.settled for a in answers)
        await log_settled(pilot, log)
        first = answers[0]
        assert shown_pieces(first) and not shown_pieces(answers[-1])
        assert all(p.widget.source == p.text for p in first.pieces if p.widget is not None)
        assert first.text == text
        assert "Section 1" in screen_text(app)


def test_breaks_keep_lists_fences_comments_and_indented_text_whole():
    text = (
        "Intro.\n\n"
        "- a\n\n- b (one loose list)\n\n"
        "1. one\n\n2. two\n\n   still two\n\n"
        "```\ncode\n\nmore code\n```\n\n"
        "    indented\n\n    code\n\n"
        "<!-- a comment\n\nacross a blank line -->\n\n"
        "[ref]: https://example.com\n\n"
        "End."
    )
    expected = ["```", "<!--", "[ref]", "End."]  # never before a list item or an indented line
    for step in (1, 3, len(text)):  # however the text is cut into tokens
        scanner, found, offset = BreakScanner(), [], 0
        for start in range(0, len(text), step):
            chunk = text[start : start + step]
            found += [offset + split for split in scanner.feed(chunk)]
            offset += len(chunk)
        assert len(found) == len(expected)
        assert [
            text[split:].split("\n")[0][: len(e)] for split, e in zip(found, expected, strict=True)
        ] == expected
    # A definition applies to every piece: the pieces are rendered with the ones seen so far.
    assert link_definitions(text) == ["[ref]: https://example.com"]
