"""Markdown text as lines: Rich's Markdown rendered to ``Strip`` objects at a width, in the theme's colours.

An answer is shown as these lines (:mod:`.widgets.line_piece`), not as a tree of Textual Markdown
block widgets: a strip and its segments hold no reference cycles, so refcounting frees them and a
full garbage-collection pass has little to scan (each block widget was ~2 µs an object to free).

Rich's ``Markdown`` puts one blank line between top-level blocks, so text cut at a break
(:mod:`.widgets.breaks`) renders as the whole document does once the parts are joined with that
line (a part that shows nothing, only link definitions or comments, gets none).

Server text is data: Rich's Markdown never reads console markup, and ``safe_text.clean`` has
removed escape sequences before the text gets here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich import box
from rich._loop import loop_first
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, HorizontalRule, ListItem, Markdown, TableElement
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from textual.color import Color
from textual.strip import Strip

__all__ = ["LineRenderer", "Rendered", "renderer_for"]


@dataclass(frozen=True)
class Rendered:
    """One part of a document rendered at one width."""

    strips: list[Strip]
    #: a blank line separates it from what follows (False: it shows nothing)
    gap_after: bool


class _Heading(Heading):
    LEVEL_ALIGN: ClassVar = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "left")


class _CodeBlock(CodeBlock):
    """A fence on the theme's panel colour."""

    background: str | None = None

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> _CodeBlock:
        block = cls((token.info or "").partition(" ")[0] or "text", markdown.code_theme)
        if isinstance(markdown, _Markdown):
            block.background = markdown.code_background
        return block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        yield Syntax(
            code,
            self.lexer_name,
            theme=self.theme,
            word_wrap=True,
            padding=1,
            background_color=self.background,
        )


class _Table(TableElement):
    """A table with a header and borders (Rich's own has no side borders)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=box.ROUNDED, border_style="markdown.table.border", show_edge=True)
        if self.header is not None and self.header.row is not None:
            for column in self.header.row.cells:
                heading = column.content.copy()
                heading.stylize("markdown.table.header")
                table.add_column(heading, justify=column.justify)
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(cell.content for cell in row.cells))
        yield table


class _ListItem(ListItem):
    """Numbers with a dot ("1."), as Markdown writes them (Rich shows "1")."""

    def render_number(
        self, console: Console, options: ConsoleOptions, number: int, last_number: int
    ) -> RenderResult:
        width = len(str(last_number)) + 3
        lines = console.render_lines(
            self.elements, options.update(width=options.max_width - width), style=self.style
        )
        style = console.get_style("markdown.item.number", default="none")
        numeral = Segment(f"{number}.".rjust(width - 1) + " ", style)
        padding = Segment(" " * width, style)
        for first, line in loop_first(lines):
            yield numeral if first else padding
            yield from line
            yield Segment.line()


class _Rule(HorizontalRule):
    """A rule is a block like the others, with one blank line around it (Rich's own draws a
    blank line of its own, and a list after it got two)."""

    new_line = True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(style=console.get_style("markdown.hr", default="none"))


_PARSER = MarkdownIt().enable("strikethrough").enable("table")


class _Markdown(Markdown):
    elements: ClassVar = {
        **Markdown.elements,
        "heading_open": _Heading,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
        "table_open": _Table,
        "list_item_open": _ListItem,
        "hr": _Rule,
    }

    def __init__(self, text: str, code_theme: str, code_background: str | None) -> None:
        # As Rich's own, but with one parser for all: a MarkdownIt instance is a nest of
        # reference cycles (~2,500 objects), and one per render was most of what full
        # garbage-collection passes freed while an answer streamed.
        self.markup = text
        self.parsed = _PARSER.parse(text)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
        self.code_background = code_background

    def _flatten_tokens(self, tokens: list[Token]):  # type: ignore[no-untyped-def]
        # HTML blocks show nothing, and Rich would still put a blank line for each: a comment
        # between two paragraphs made two blank lines in the whole document, one in a part.
        for token in super()._flatten_tokens(tokens):
            if token.type != "html_block":
                yield token


class LineRenderer:
    """Renders Markdown text into strips with one theme's styles."""

    def __init__(self, styles: dict[str, Style], code_theme: str, code_background: str | None) -> None:
        self._console = Console(
            file=io.StringIO(),
            width=80,
            force_terminal=True,
            color_system="truecolor",
            theme=Theme(styles),
            markup=False,
            emoji=False,
            highlight=False,
            legacy_windows=False,
        )
        self._code_theme = code_theme
        self._code_background = code_background
        self._code_style = Style(bgcolor=code_background) if code_background else Style()
        #: how many texts and open fences' code lines were rendered (tests count a flush's work)
        self.renders = 0
        self.code_lines = 0

    def render(self, text: str, width: int) -> Rendered:
        """``text`` at ``width`` cells."""
        self.renders += 1
        markdown = _Markdown(text, self._code_theme, self._code_background)
        options = self._console.options.update_width(max(1, width))
        lines = self._console.render_lines(markdown, options, pad=False, new_lines=False)
        shown = [t for t in markdown.parsed if t.level == 0 and t.nesting >= 0 and t.type != "html_block"]
        if not shown:
            return Rendered([], False)
        # A block with children (a list, a table) that starts the text comes after a blank line
        # of Rich's (its children asked for one): not part of the text.
        start = 0
        while start < len(lines) and not lines[start]:
            start += 1
        return Rendered([Strip(line) for line in lines[start:]], True)

    def code_line(self, line: str, width: int) -> list[Strip]:
        """One line of a fence still open, plain, as its block will frame it once closed (a
        column of padding either side, wrapped)."""
        self.code_lines += 1
        inner = max(1, width - 2)
        text = Text(line.expandtabs(4), style=self._code_style, end="")
        options = self._console.options.update_width(inner)
        lines = self._console.render_lines(text, options, style=self._code_style, pad=True, new_lines=False)
        pad = Segment(" ", self._code_style)
        return [Strip([pad, *row, pad], inner + 2) for row in lines]

    def code_pad(self, width: int) -> Strip:
        """The blank line above and below a fence's code."""
        return Strip.blank(max(1, width), self._code_style)


def _style(variables: dict[str, str], name: str, base: Color, fallback: str = "") -> Style:
    """A Rich style from a theme variable (a colour); ``fallback`` when it is not one."""
    value = variables.get(name, "")
    try:
        color = Color.parse(value)
    except Exception:  # "auto 60%", "transparent"…: not a plain colour
        return Style.parse(fallback) if fallback else Style()
    if color.a < 1:
        color = base + color
    return Style(color=color.rich_color)


def _text_style(variables: dict[str, str], name: str) -> str:
    value = variables.get(name, "")
    return "" if value in ("", "none") else value


def theme_styles(variables: dict[str, str], dark: bool) -> dict[str, Style]:
    """The styles Rich's Markdown looks up, from the app's theme variables."""
    surface = Color.parse(variables.get("surface", "#1e1e1e" if dark else "#ffffff"))
    foreground = Color.parse(variables.get("foreground", "#e0e0e0" if dark else "#202020"))
    muted = Style(color=foreground.blend(surface, 0.4).rich_color)
    panel = Color.parse(variables.get("panel", surface.hex))
    styles: dict[str, Style] = {
        "markdown.paragraph": Style(),
        "markdown.text": Style(),
        "markdown.em": Style(italic=True),
        "markdown.emph": Style(italic=True),
        "markdown.strong": Style(bold=True),
        "markdown.s": Style(strike=True),
        "markdown.code": _style(variables, "text-accent", surface) + Style(bgcolor=panel.rich_color),
        "markdown.code_block": Style(bgcolor=panel.rich_color),
        "markdown.block_quote": muted + Style(italic=True),
        "markdown.list": Style(),
        "markdown.item": Style(),
        "markdown.item.bullet": _style(variables, "text-primary", surface, "bold"),
        "markdown.item.number": _style(variables, "text-primary", surface, "bold"),
        "markdown.hr": muted,
        "markdown.link": _style(variables, "text-primary", surface) + Style(underline=True),
        "markdown.link_url": _style(variables, "text-primary", surface) + Style(underline=True),
        "markdown.table.border": muted,
        "markdown.table.header": _style(variables, "text-primary", surface) + Style(bold=True),
        "markdown.kbd": Style(bold=True),
    }
    for level in range(1, 7):
        tag = f"markdown-h{level}"
        style = _style(variables, f"{tag}-color", surface, "bold")
        words = _text_style(variables, f"{tag}-text-style")
        with suppress(Exception):  # a text style Rich does not know: the colour alone
            style += Style.parse(words) if words else Style()
        styles[f"markdown.h{level}"] = style
        styles[f"markdown.h{level}.border"] = style
    return styles


_renderers: dict[tuple[str, bool], LineRenderer] = {}


def renderer_for(theme: str, dark: bool, variables: Callable[[], dict[str, str]]) -> LineRenderer:
    """The renderer of a theme, made once per theme (``variables``: its CSS variables, asked for
    only then)."""
    key = (theme, dark)
    renderer = _renderers.get(key)
    if renderer is None:
        values = variables()
        panel = values.get("panel")
        try:
            background = Color.parse(panel).hex if panel else None
        except Exception:
            background = None
        code_theme = "monokai" if dark else "friendly"
        renderer = _renderers[key] = LineRenderer(theme_styles(values, dark), code_theme, background)
    return renderer
