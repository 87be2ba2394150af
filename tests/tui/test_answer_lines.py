"""Answers as lines (difytui.tui.markdown_lines, widgets/line_piece): text cut at breaks renders as
the whole document does, a flush renders only the open tail, no widget is built per flush, and the
final text is fully rendered (fences highlighted, tables laid out), selectable, and literal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.selection import Selection
from textual.widget import Widget

from difytui.tui.markdown_lines import LineRenderer, renderer_for
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.breaks import BreakScanner, link_definitions
from difytui.tui.widgets.line_piece import GUTTER, LinePiece
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.conftest import log_settled
from tests.tui.test_streaming import LogApp, markdown_tokens, screen_text

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from tui_stream import answer_tokens  # (the benchmark's own answer)

DARK = {"surface": "#1E1E1E", "foreground": "#E0E0E0", "panel": "#242F38", "text-primary": "#57A5E2"}

TRICKY = (
    "- a\n\n- b (one loose list)\n\n"
    "1. one\n\n2. two\n\n   still two\n\n"
    "```\ncode\n\nmore code\n```\n\n"
    "| t | u |\n|---|---|\n| 1 | 2 |\n\n"
    "    indented\n\n    code\n\n"
    "<!-- a comment\n\nacross a blank line -->\n\n"
    "Para with [a ref].\n\n"
    "---\n\n"
    "> quoted\n\n"
    "[a ref]: https://example.com\n\n"
    "End."
)


def renderer() -> LineRenderer:
    return renderer_for("test-dark", True, lambda: DARK)


def joined(text: str, width: int) -> list[str]:
    """The lines of ``text`` rendered part by part (cut at every break), joined as a piece joins them
    (each part with the document's link definitions, as the answer renders its pieces)."""
    refs = "\n".join(link_definitions(text))
    splits = BreakScanner().feed(text)
    parts = [text[a:b] for a, b in zip([0, *splits], [*splits, len(text)], strict=True)]
    lines: list[str] = []
    gap = False
    for part in parts:
        rendered = renderer().render(part + "\n\n" + refs if refs and "[" in part else part, width)
        if not rendered.strips:
            continue
        if gap:
            lines.append("")
        lines += [strip.text for strip in rendered.strips]
        gap = rendered.gap_after
    return lines


def test_parts_cut_at_breaks_render_as_the_whole_document():
    for text in ("".join(answer_tokens(600)), "".join(markdown_tokens(300)), TRICKY, "# a\n\n---\n\nb"):
        assert len(BreakScanner().feed(text)) >= 2
        for width in (40, 100):
            whole = [strip.text for strip in renderer().render(text, width).strips]
            assert joined(text, width) == whole


def test_markup_and_escapes_in_an_answer_are_text():
    rendered = renderer().render("[bold]x[/] and [red]y[/red] ␛[31m", 60)
    (line,) = rendered.strips
    assert line.text.rstrip() == "[bold]x[/] and [red]y[/red] ␛[31m"
    assert not any(segment.style and segment.style.bold for segment in line)


async def test_escape_sequences_never_reach_the_lines():
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        _log, answer = await new_answer(app)
        await ended(pilot, answer, "red \x1b[31mtext\x1b[0m and [bold]x[/]\n\n")
        shown = screen_text(app)
        assert "\x1b[31m" not in shown and "␛[31mtext␛[0m and [bold]x[/]" in shown


async def new_answer(app: LogApp) -> tuple[ResponseLog, AnswerView]:
    log = app.query_one(ResponseLog)
    answer = AnswerView()
    await log.add(answer)
    return log, answer


async def ended(pilot: Any, answer: AnswerView, text: str) -> None:
    """``text`` as the whole answer, ended and drawn."""
    await answer.write(text)
    await answer.finish()
    await log_settled(pilot, answer.parent)  # type: ignore[arg-type]


def lines_text(piece: LinePiece) -> list[str]:
    return [strip.text.rstrip() for strip in piece.lines(piece.size.width)]


async def test_a_flush_renders_only_the_tail_and_builds_no_widget():
    """Counted, not timed: per flush, one render of the tail (and one per new part), whatever
    the length of the answer; widgets built: one per piece."""
    tokens = answer_tokens(4000)
    built = [0]
    original = Widget.__init__

    def counting(self: Widget, *args: object, **kwargs: object) -> None:
        built[0] += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log, answer = await new_answer(app)
        await pilot.pause()
        render = renderer_for(app.theme, app.current_theme.dark, lambda: app.theme_variables)
        flushes = 0
        Widget.__init__ = counting  # type: ignore[method-assign]
        try:
            for start in range(0, len(tokens), 10):
                before, width = render.renders, answer.size.width
                parts_before = sum(p.part_count for p in answer.query(LinePiece))
                sealed_before = len(answer.pieces)
                answer._pending += tokens[start : start + 10]
                async with answer._lock:
                    await answer._drain()
                await pilot.pause()  # a frame: what is on screen is rendered
                flushes += 1
                parts = sum(p.part_count for p in answer.query(LinePiece))
                sealed = len(answer.pieces) - sealed_before
                new_parts = parts - parts_before + AnswerView.SEAL_BLOCKS * sealed
                # the tail once, each new part once (a part is never rendered again), unless the
                # width changed (the log's scrollbar appears once the answer outgrows it)
                if answer.size.width == width:
                    assert render.renders - before <= 1 + max(0, new_parts), start
        finally:
            Widget.__init__ = original  # type: ignore[method-assign]
        await answer.finish()
        await log_settled(pilot, log)
        assert answer.text == "".join(tokens)
        pieces = len(answer.pieces)
        assert flushes > 300 and pieces > 5
        # One widget per piece (sealed or live), none per flush; plus a few the window re-renders.
        assert built[0] <= pieces + 6, (built[0], pieces)


async def test_the_final_text_is_fully_rendered_and_selectable():
    text = (
        "Intro line.\n\n```python\ndef f(x):\n    return x + 1\n```\n\n"
        "| name | count |\n|---|---:|\n| apples | 3 |\n\nBye."
    )
    app = LogApp()
    async with app.run_test(size=(80, 30)) as pilot:
        log, answer = await new_answer(app)
        for token in [text[i : i + 7] for i in range(0, len(text), 7)]:
            await answer.write(token)
        # While the fence is open it is shown plain; the piece holds the text so far.
        await answer.finish()
        await log_settled(pilot, log)
        assert answer.text == text
        (piece,) = answer.query(LinePiece)
        lines = lines_text(piece)
        assert "def f(x):" in "\n".join(lines)
        code = next(strip for strip in piece.lines(piece.size.width) if "return" in strip.text)
        colours = {segment.style.color for segment in code if segment.style and segment.text.strip()}
        assert len(colours) > 1  # highlighted: keywords, names and numbers differ
        table = [line for line in lines if "apples" in line or "name" in line]
        assert table[0].startswith("│") and "│" in table[0][1:]  # a header row between borders
        assert any(line.startswith("╭") for line in lines)
        assert piece.size.width == answer.size.width - GUTTER  # measured at the width it is laid out at
        # Selecting the whole piece gives its text as shown.
        app.screen.selections = {piece: Selection(None, None)}
        selected = app.screen.get_selected_text()
        assert selected is not None and "Intro line." in selected and "return x + 1" in selected
        assert "apples" in selected and "Bye." in selected


def colours(strip) -> set:  # type: ignore[no-untyped-def]
    return {segment.style.color for segment in strip if segment.style and segment.text.strip()}


async def test_an_open_fence_renders_only_its_new_lines_plain_until_it_closes():
    app = LogApp()
    async with app.run_test(size=(80, 30)) as pilot:
        log, answer = await new_answer(app)
        render = renderer_for(app.theme, app.current_theme.dark, lambda: app.theme_variables)
        await answer.write("Some code:\n\n```python\n")
        await log_settled(pilot, log)
        for number in range(300):  # a long fence, a line and a half per flush
            before, lines_before = render.renders, render.code_lines
            answer._pending += [f"value_{number} = compute(", f"{number})\n"]
            async with answer._lock:
                await answer._drain()
            live = answer._live
            assert live is not None
            live.lines(live.size.width)  # a frame
            # the line completed and the new one: not the fence so far, nor the text before it
            assert render.renders == before and render.code_lines - lines_before <= 2, number
        code = next(strip for strip in live.lines(live.size.width) if "value_7 " in strip.text)
        assert len(colours(code)) == 1  # plain while open
        await ended(pilot, answer, "```\n")
        assert answer.text.endswith("value_299 = compute(299)\n```\n")
        code = next(
            strip
            for p in answer.query(LinePiece)
            for strip in p.lines(p.size.width)
            if "value_7 " in strip.text
        )
        assert len(colours(code)) > 1  # highlighted once closed


async def test_light_and_dark_themes_colour_headings_from_the_theme():
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        _log, answer = await new_answer(app)
        await ended(pilot, answer, "## Heading\n\ntext\n")
        colours = {}
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            render = renderer_for(app.theme, app.current_theme.dark, lambda: app.theme_variables)
            (heading, *_) = render.render("## Heading", 40).strips
            colours[theme] = next(s.style.color for s in heading if s.text.strip() and s.style)
        assert colours["textual-dark"] != colours["textual-light"]


async def test_an_answer_is_selected_with_the_mouse():
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        _log, answer = await new_answer(app)
        await ended(pilot, answer, "Hello **world** and more text here.\n\nSecond paragraph line.\n")
        piece = answer.query_one(LinePiece)
        await pilot.mouse_down(piece, offset=(0, 0))
        await pilot.hover(piece, offset=(8, 2))
        await pilot.mouse_up(piece, offset=(8, 2))
        await pilot.pause()
        assert app.screen.get_selected_text() == "Hello world and more text here.\n\nSecond p"


async def test_a_new_width_renders_the_pieces_on_screen_again():
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log, answer = await new_answer(app)
        await ended(pilot, answer, "".join(markdown_tokens(300)))
        await pilot.resize_terminal(60, 30)
        await log_settled(pilot, log)
        shown = list(answer.query(LinePiece))
        assert shown and all(piece.size.width == answer.size.width - GUTTER < 60 - GUTTER for piece in shown)
        for piece in shown:
            assert all(strip.cell_length <= piece.size.width for strip in piece.lines(piece.size.width))
            index = next(i for i, p in enumerate(answer.pieces) if p.widget is piece)
            assert answer.pieces[index].height == piece.size.height  # measured at the new width
