"""One piece of an answer as lines: a Line-API widget holding the strips of its Markdown parts.

A piece's text is a list of *parts* cut at breaks (:mod:`.breaks`) plus an open *tail* (the text
after the last break, still growing while the answer streams). Each part is rendered once per
width and its strips kept; only the tail is rendered again when it grows, so a flush costs the
same at any length of the answer. A code fence still open in the tail is shown plain, a line at a
time, and highlighted once it closes (it is never highlighted again as text streams in).

The widget is one node with its strips, not a tree of block widgets with styles and caches:
strips hold no reference cycles, so dropping a piece frees it by refcounting.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from difytui.tui.markdown_lines import LineRenderer, Rendered, renderer_for

_BLANK = Strip([], 0)
#: columns of padding around a piece's lines (its CSS), so a piece can be measured before it is mounted
GUTTER = 2


class _Part:
    """Text between two breaks (or the open tail) and its lines at the last width asked for."""

    __slots__ = ("rendered", "source", "text", "width")

    def __init__(self, text: str, source: str) -> None:
        self.text = text  # as the answer holds it
        self.source = source  # as rendered (with the link definitions that apply to it)
        self.width = -1
        self.rendered = Rendered([], False)

    def at(self, renderer: LineRenderer, width: int) -> Rendered:
        if width != self.width:
            self.rendered = renderer.render(self.source, width) if self.source else Rendered([], False)
            self.width = width
        return self.rendered

    def forget(self) -> None:
        self.width, self.rendered = -1, Rendered([], False)


class _OpenFence:
    """The tail while a code fence in it is open: the text before the fence is rendered once, and
    the code as plain lines, each complete line once (only the line still growing again), so a
    flush costs the same however long the fence grows. It is highlighted once it closes."""

    __slots__ = ("_code", "_done", "_head", "_partial", "_tail", "text", "width")

    def __init__(self, text: str, fence_at: int, before: _OpenFence | None) -> None:
        self.text = text
        head = text[:fence_at]
        opening_end = text.find("\n", fence_at)
        self._tail = text[opening_end + 1 :] if opening_end != -1 else ""  # the code so far
        if before is not None and before._head.text == head:  # the same fence, grown
            self._head, self.width = before._head, before.width
            self._code, self._done, self._partial = before._code, before._done, before._partial
        else:
            self._head, self.width = _Part(head, head), -1
            self._code: list[Strip] = []  # the complete lines' strips
            self._done = 0  # characters of the code in complete lines
            self._partial: tuple[str, list[Strip]] = ("", [])  # the line still growing

    def at(self, renderer: LineRenderer, width: int) -> Rendered:
        if width != self.width:
            self._code, self._done, self._partial, self.width = [], 0, ("", []), width
        *complete, last = self._tail[self._done :].split("\n")
        for line in complete:
            self._code += renderer.code_line(line, width)
            self._done += len(line) + 1
        if last != self._partial[0]:
            self._partial = (last, renderer.code_line(last, width) if last else [])
        head = self._head.at(renderer, width)
        pad = renderer.code_pad(width)
        strips = [*head.strips, _BLANK] if head.strips else []
        return Rendered([*strips, pad, *self._code, *self._partial[1], pad], True)

    def forget(self) -> None:
        self._head.forget()
        self._code, self._done, self._partial, self.width = [], 0, ("", []), -1


class LinePiece(Widget):
    """A piece of an answer: its parts' lines, one after the other, a blank line between blocks."""

    DEFAULT_CSS = """
    LinePiece {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._parts: list[_Part] = []
        self._tail: _Part | _OpenFence | None = None
        #: the text before this piece ended with a block that wants a blank line after it
        self.top_gap = False
        self._lines: list[Strip] | None = None
        self._lines_width = -1
        self._gap_after = False
        self._renderer: LineRenderer | None = None
        self._base_style = Style()
        self._selection: Selection | None = None
        #: line on screen → (its strip, the base style, the strip painted): a frame asks for
        #: every line on screen again
        self._painted: dict[int, tuple[Strip, Style, Strip]] = {}

    # -- what it holds -----------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """Its text (parts and tail), as the answer holds it."""
        return "".join(part.text for part in self._all_parts())

    def _all_parts(self) -> list[_Part | _OpenFence]:
        return [*self._parts, self._tail] if self._tail is not None else self._parts

    @property
    def part_count(self) -> int:
        return len(self._parts)

    def add_part(self, text: str, source: str | None = None) -> None:
        """Text up to a break (the tail so far and what followed it): rendered once (per width),
        then kept; the tail is empty until the next ``set_tail``."""
        self._parts.append(_Part(text, text if source is None else source))
        self._tail = None
        self._changed()

    def set_tail(self, text: str, fence_at: int | None = None) -> None:
        """The open tail: rendered again (once) whenever it changes. ``fence_at``: where a code
        fence still open starts in it (its code is shown plain, and only new lines rendered)."""
        tail = self._tail
        if tail is not None and tail.text == text:
            return
        if not text:
            self._tail = None
        elif fence_at is not None:
            self._tail = _OpenFence(text, fence_at, tail if isinstance(tail, _OpenFence) else None)
        else:
            self._tail = _Part(text, text)
        self._changed()

    def set_parts(self, parts: list[tuple[str, str]]) -> None:
        """Everything again (a late link definition, or a piece rendered anew)."""
        self._parts = [_Part(text, source) for text, source in parts]
        self._tail = None
        self._changed()

    def _changed(self) -> None:
        before = len(self._lines) if self._lines is not None else -1
        width = self._lines_width
        self._lines = None
        self._painted.clear()
        if not self.is_attached:
            return
        if before >= 0 and width > 0 and width == self.size.width and len(self.lines(width)) == before:
            # As many lines as before (the tail grew within its last line): a repaint, not a
            # layout of the screen (which also leaves the whole map as garbage for a full pass).
            self.refresh()
            return
        self.refresh(layout=True)

    def on_unmount(self) -> None:
        """Removed, the widget is cyclic garbage (as every Textual node is) until a full pass
        frees it, with all it holds: its strips hold no cycles, so they are let go now and
        refcounting frees them (in a burst, pieces leaving the window were ~3/4 of the objects
        each full pass freed, in the same loop step as a frame). Mounted again, it renders again."""
        for part in self._all_parts():
            part.forget()
        self._lines, self._lines_width = None, -1
        self._painted.clear()
        self._styles_cache.clear()

    # -- its lines ---------------------------------------------------------------------------------

    @property
    def renderer(self) -> LineRenderer:
        app = self.app
        return renderer_for(app.theme, app.current_theme.dark, lambda: app.theme_variables)

    def lines(self, width: int) -> list[Strip]:
        """Its lines at ``width`` (parts rendered at another width are rendered again)."""
        if self._lines is not None and width == self._lines_width:
            return self._lines
        if width <= 0:
            return []  # not laid out yet: nothing is rendered at a width it will never have
        renderer = self.renderer
        if renderer is not self._renderer:
            # Another theme (lines carry its colours): every part is rendered again. (Asked
            # here, not by a theme signal: a subscription would keep the widget alive.)
            self._renderer = renderer
            for part in self._all_parts():
                part.width = -1
        lines: list[Strip] = []
        gap = self.top_gap
        for part in self._all_parts():
            rendered = part.at(renderer, width)
            if not rendered.strips:
                continue  # link definitions, comments: nothing shown, no blank line for them
            if gap:
                lines.append(_BLANK)
            lines.extend(rendered.strips)
            gap = rendered.gap_after
        self._gap_after = gap
        self._lines, self._lines_width = lines, width
        return lines

    @property
    def gap_after(self) -> bool:
        """Whether what follows this piece starts after a blank line (known once it is rendered)."""
        return self._gap_after

    def line_count(self, width: int) -> int:
        return len(self.lines(width))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.line_count(width)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Asked once per pass, not per line (each walks the widget's ancestors).
        self._base_style = self.rich_style
        self._selection = self.text_selection
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.lines(width)
        style = self._base_style
        if y >= len(lines):
            return Strip.blank(width, style)
        line = lines[y]
        selection = self._selection
        if selection is None:
            painted = self._painted.get(y)
            if painted is not None and painted[0] is line and painted[1] == style:
                return painted[2]  # (a frame repaints every line on screen, most unchanged)
        strip = line
        if selection is not None and (span := selection.get_span(y)) is not None:
            strip = _select(strip, span, self.screen.get_component_rich_style("screen--selection"))
        strip = strip.apply_style(style).apply_offsets(0, y)
        if selection is None:
            self._painted[y] = (line, style, strip)
        return strip

    # -- selection -----------------------------------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(strip.text.rstrip() for strip in self.lines(self.size.width))
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def _select(strip: Strip, span: tuple[int, int], style: Style) -> Strip:
    start, end = span
    length = strip.cell_length
    end = length if end == -1 else min(end, length)
    if start >= end:
        return strip
    before, chosen, after = strip.divide([start, end, length])
    return Strip.join([before, chosen.apply_style(style), after])


class MarkdownLines(LinePiece):
    """A whole Markdown text shown as lines (an opening statement, a workflow's text output, a
    Human Input form's text): the same look as answers, without Textual's Markdown widgets."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_part(text)
