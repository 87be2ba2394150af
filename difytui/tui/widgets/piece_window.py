"""The sealed pieces of a streamed answer (:mod:`.answer_view`) and the window of them that is rendered.

Sealed pieces far from the viewport are dropped and stand as text behind a blank spacer of their
height (:meth:`PieceWindow.refresh_window`); they are rendered again when they come back near the
viewport. So a long chat holds its text, not thousands of lines. The widgets of pieces leaving the
window show the pieces entering it (:meth:`PieceWindow._widget_for`): a stream, or a scroll
through a long answer, mounts and removes few widgets.

While the log follows its end, the window is the pieces within two viewports of the answer's end,
from their recorded heights (:meth:`PieceWindow._wanted_window`), and it moves when a piece is
sealed: during a burst, frames lag many pieces behind, and a window read from the last frame
kept every piece of the answer rendered (and laid out on every frame) until the answer ended.

Every change of the pieces runs under the answer's lock (see :mod:`.answer_view`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from textual.containers import Vertical
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Static

from difytui.tui.widgets.line_piece import GUTTER, LinePiece


@dataclass
class Piece:
    """A sealed piece: its text, and its widget while it is near the viewport."""

    text: str
    widget: LinePiece | None = None
    #: lines on screen when it was last rendered (after a resize, kept as text, it keeps this
    #: height until it is rendered again: the spacers are then off by the difference)
    height: int = 0
    refs: int = 0  # how many link definitions it was rendered with
    gap_after: bool = False  # the next piece starts after a blank line (see markdown_lines)


class Spacer(Widget):
    """Blank lines standing for pieces that are not rendered."""

    DEFAULT_CSS = "Spacer { height: 0; }"


class PieceWindow(Vertical):
    """The sealed pieces of an answer, the spacers standing for those not rendered, and the lock."""

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pieces: list[Piece] = []
        self._lo = 0  # pieces[_lo:_hi] are rendered; the others are counted in the spacers
        self._hi = 0
        self._lock = asyncio.Lock()
        self._refs: list[str] = []
        self._window_wanted = False
        self._moves = 0  # window moves scheduled and not done
        self._refresh_due = False  # a refresh_window is scheduled after a refresh and not yet run
        self._label = label
        self._width = 0
        self._above = Spacer(classes="answer-spacer")
        self._below = Spacer(classes="answer-spacer")

    @property
    def pieces(self) -> list[Piece]:
        """The sealed pieces, in order (the last one is the final render once the answer ended)."""
        return list(self._pieces)

    # -- measuring ---------------------------------------------------------------------------------

    def _source(self, piece: Piece) -> str:
        piece.refs = len(self._refs)
        if self._refs and "[" in piece.text:
            return piece.text + "\n\n" + "\n".join(self._refs) + "\n"
        return piece.text

    def _piece_widget(self, index: int) -> LinePiece:
        """A new widget for the piece at ``index`` (its text comes after the pieces before it)."""
        widget = LinePiece(classes="answer-piece")
        widget.top_gap = self._gap_before(index)
        return widget

    def _gap_before(self, index: int) -> bool:
        return index > 0 and self._pieces[index - 1].gap_after

    def on_resize(self, event: Resize) -> None:
        # Only a new width changes how pieces wrap (pieces kept as text are measured when they
        # are rendered again; until then the spacers are off by the difference).
        if event.size.width != self._width:
            self._width = event.size.width
            for piece in self._pieces:
                if piece.widget is not None:
                    self._measure(piece)
            self._spacers()

    def _measure(self, piece: Piece, width: int = 0) -> None:
        """Record how many lines the piece's widget takes at the current width (rendering it at
        that width: the layout then finds its lines ready)."""
        widget = piece.widget
        width = width or self.size.width or self._expected_width()
        if widget is None or not width:
            return
        self._width = self._width or width  # its first Resize at this width measures nothing again
        piece.height = widget.line_count(max(1, width - GUTTER))
        piece.gap_after = widget.gap_after

    def _expected_width(self) -> int:
        """The width the log gives the answer, before its first layout (a burst of text can seal
        many pieces before a frame is drawn; measured 0 lines, they would all stay mounted)."""
        parent = self.parent
        if not isinstance(parent, Widget):
            return 0
        return max(0, parent.scrollable_content_region.width - self.styles.margin.width)

    # -- the window of rendered pieces -----------------------------------------------------------

    def refresh_window(self) -> None:
        """Render the pieces near the viewport and drop the others (called after scrolling)."""
        self._refresh_due = False
        if self._lock.locked():
            self._window_wanted = True  # the lock's holder looks again when it is done
            return
        wanted = self._wanted_window()
        if wanted is not None and wanted != (self._lo, self._hi):
            self._moves += 1
            self.run_worker(self._move_window(), group="answer-window", exit_on_error=False)

    def _after_lock(self) -> None:
        """The answer grew or moved: earlier answers may have left the screen too (anchored
        scrolling does not always report a new scroll offset), so the log asks them all."""
        if self._window_wanted or self._pieces:
            self._window_wanted = False
            parent = self.parent
            viewport_moved = getattr(parent, "viewport_moved", None)
            if viewport_moved is not None:
                viewport_moved()
            else:
                self._refresh_later()

    def _refresh_later(self) -> None:
        self._refresh_due = True
        self.call_after_refresh(self.refresh_window)

    def _follow_height(self) -> int:
        """The log's viewport height while it follows its end and this answer is the last item
        in it (0 otherwise): the answer's last lines are then on screen, whatever the last frame
        shows (during a burst, frames lag many pieces behind)."""
        log = self.parent
        if not isinstance(log, Widget) or not getattr(log, "follows_end", False):
            return 0
        if log.children and log.children[-1] is not self:
            return 0
        return log.scrollable_content_region.height

    def _wanted_window(self) -> tuple[int, int] | None:
        n = len(self._pieces)
        if not self.is_attached or not n:
            return None
        follow = self._follow_height()
        if follow:
            # Rendered: the sealed pieces within two viewports of the end (the screen and the
            # margin above it); the live piece below them only pushes them further up.
            lo, lines = n, 0
            while lo > 0 and lines < 2 * follow:
                lo -= 1
                lines += self._pieces[lo].height
            return (lo, n)
        view = _visible_span(self)
        if view is None:  # off screen (or its pane is hidden): keep only the text
            return (n, n)
        top, bottom, margin = view
        top, bottom = top - margin, bottom + margin
        y = self._above_offset()
        lo = hi = None
        for index, piece in enumerate(self._pieces):
            end = y + piece.height
            if end > top and y < bottom:
                lo = index if lo is None else lo
                hi = index + 1
            y = end
        if lo is None or hi is None:
            return (n, n)
        return (lo, hi)

    def _above_offset(self) -> int:
        label = self.children[0] if self._label and self.children else None
        return label.outer_size.height if isinstance(label, Static) and label.display else 0

    async def _move_window(self) -> None:
        moved = False
        try:
            async with self._lock:
                wanted = self._wanted_window()
                if wanted is not None and wanted != (self._lo, self._hi):
                    await self._set_window(*wanted)
                    moved = True
        finally:
            self._moves -= 1
        if self._window_wanted or moved:
            # Once more after the next frame: the move was read from the last frame, and the
            # layout may have moved the answer since (the log's end shrinking when an answer
            # ends scrolls nothing, and tells nobody): a piece dropped while it comes back into
            # view would stay blank. A second look that finds the same window stops there.
            self._window_wanted = False
            self._refresh_later()

    async def _set_window(self, lo: int, hi: int) -> None:
        # Widgets of pieces leaving the window show the pieces entering it: a widget mounted and
        # removed per piece was CSS to apply, events to run and, once removed, cyclic garbage for
        # the next full pass (half of a pass's time in a burst, where a piece leaves as one is
        # sealed).
        free: list[LinePiece] = []
        for index, piece in enumerate(self._pieces):
            if piece.widget is not None and not lo <= index < hi:
                self._measure(piece)
                free.append(piece.widget)
                piece.widget = None
        self._lo, self._hi = lo, hi
        self._spacers()
        anchor: Widget = self._above
        for index in range(lo, hi):
            piece = self._pieces[index]
            if piece.widget is None:
                widget = self._widget_for(index, free)
                widget.set_parts([(piece.text, self._source(piece))])
                piece.widget = widget
                self._measure(piece)
                if widget.parent is self:
                    self.move_child(widget, after=anchor)
                else:
                    await self.mount(widget, after=anchor)
            anchor = piece.widget
        for widget in free:
            await self._let_go(widget)

    def _widget_for(self, index: int, free: list[LinePiece]) -> LinePiece:
        """A widget to show the piece at ``index`` (the caller gives it its text): one taken from
        ``free``, else a new one (the caller mounts it)."""
        if not free:
            return self._piece_widget(index)
        widget = free.pop()
        widget.top_gap = self._gap_before(index)
        widget.display = True
        screen = widget.screen
        if widget in screen.selections:  # a selection in the old text means nothing in the new
            screen.selections = {w: s for w, s in screen.selections.items() if w is not widget}
        return widget

    async def _let_go(self, widget: LinePiece) -> None:
        """A piece's widget no window needs (a streaming answer keeps one for its next piece)."""
        await widget.remove()

    def _spacers(self) -> None:
        above = sum(p.height for p in self._pieces[: self._lo])
        below = sum(p.height for p in self._pieces[self._hi :])
        self._above.styles.height = above
        self._above.display = bool(above)
        self._below.styles.height = below
        self._below.display = bool(below)

    async def _join_end(self, piece: Piece, widget: LinePiece) -> None:
        """A piece sealed while the rendered run reaches the end joins it; while the log follows
        the end, pieces that scrolled far above go now, not when a frame and the window's
        worker catch up (in a burst they never do before the answer ends)."""
        self._hi = len(self._pieces)
        self.move_child(self._below, after=widget)
        self._measure(piece)
        if self._follow_height():
            wanted = self._wanted_window()
            if wanted is not None and wanted != (self._lo, self._hi):
                await self._set_window(*wanted)


def _visible_span(answer: Widget) -> tuple[int, int, int] | None:
    """(first line, line after the last, viewport height) of ``answer`` on screen, in its own
    lines; None when it is not on screen. Read from the last frame's map of visible widgets (not
    ``region``, which would arrange every widget of the screen when the answer is off screen)."""
    try:
        visible = answer.screen._compositor.visible_widgets
    except Exception:  # no screen (yet): nothing is visible
        return None
    found = visible.get(answer)
    if found is None:
        return None
    region, clip = found
    return clip.y - region.y, clip.bottom - region.y, clip.height
