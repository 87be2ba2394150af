"""One streamed answer: Markdown pieces, sealed at safe breaks, and kept as text when far off screen.

Text streams into a *live* ``Markdown`` widget (``Markdown.append``). Textual re-measures every block
of a Markdown widget when it grows, so once the live piece holds ``SEAL_BLOCKS`` blocks and the text
reaches a break where a new piece renders as the whole document would (:mod:`.breaks`), the piece
is *sealed*: it is never touched again, and a new live piece continues.
When the answer ends, the rest of the text is appended and the live piece is sealed too: pieces
are never rendered again, so the end costs the same at any length.

Sealed pieces far from the viewport are dropped and stand as text behind a blank spacer of their
height (:meth:`AnswerView.refresh_window`); they are rendered again when they come back near the
viewport. So a long chat holds its text, not thousands of block widgets.

Every change of the pieces (appends, seals, the final render, the window) runs under one lock:
a flush suspended in a mount must never interleave with another one or with the final render.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.containers import Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownBlock

from difytui.tui.safe_text import clean, literal
from difytui.tui.widgets.breaks import BreakScanner, link_definitions


@dataclass
class Piece:
    """A sealed piece: its text, and its widget while it is near the viewport."""

    text: str
    widget: Markdown | None = None
    #: lines on screen when it was last rendered (after a resize, kept as text, it keeps this
    #: height until it is rendered again: the spacers are then off by the difference)
    height: int = 0
    refs: int = 0  # how many link definitions it was rendered with
    bottom_margin: int = 0  # its last block's bottom margin (the next piece's top one collapses into it)


class Spacer(Widget):
    """Blank lines standing for pieces that are not rendered."""

    DEFAULT_CSS = "Spacer { height: 0; }"


class AnswerView(Vertical):
    """One streamed answer; a status line says how it ended."""

    #: Tokens reach the live piece at most this often (the first at once): each append re-lays
    #: out the answer, so 150 tokens/s must not mean 150 appends/s.
    FLUSH_INTERVAL = 1 / 20
    SEAL_BLOCKS = 16
    #: Blocks per ``Markdown.append`` when a backlog is drained: each is one parse and mount, so
    #: no single step of the loop grows with the backlog.
    APPEND_BLOCKS = 4
    #: Characters that may wait for the next flush; beyond that ``write`` flushes and waits for
    #: it, so the text never runs far ahead of the screen.
    BACKLOG = 2000

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pieces: list[Piece] = []
        self._lo = 0  # pieces[_lo:_hi] are rendered; the others are counted in the spacers
        self._hi = 0
        self._live: Markdown | None = None
        self._live_parts: list[str] = []
        self._pending: list[str] = []
        self._pending_size = 0
        self._lock = asyncio.Lock()
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._breaks = BreakScanner()
        self._refs: list[str] = []
        self._window_wanted = False
        self._moves = 0  # window moves scheduled and not done
        self._refresh_due = False  # a refresh_window is scheduled after a refresh and not yet run
        self._label = label
        self._width = 0
        self._above = Spacer(classes="answer-spacer")
        self._below = Spacer(classes="answer-spacer")
        self.status_line = Static(Text("…"), classes="answer-status -streaming", markup=False)
        self.status = "streaming"
        self.finished = False  # no more text is taken
        self.rendered = False  # the final render is on screen

    def compose(self):
        if self._label:
            yield Static(literal(self._label), classes="answer-label", markup=False)
        yield self._above
        yield self._below
        yield self.status_line

    # -- what the answer holds -------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "".join([*(p.text for p in self._pieces), *self._live_parts, *self._pending])

    @property
    def markdown(self) -> Markdown:
        """The last rendered piece (the live one while streaming)."""
        pieces = list(self.query_children(Markdown))
        return pieces[-1] if pieces else Markdown()

    @property
    def pieces(self) -> list[Piece]:
        """The sealed pieces, in order (the last one is the final render once the answer ended)."""
        return list(self._pieces)

    def show(self, visible: bool = True) -> None:
        self.display = visible

    def _set_status(self, text: str, cls: str) -> None:
        self.status_line.set_classes(f"answer-status {cls}")
        self.status_line.update(Text(text))
        self.status_line.display = bool(text)

    # -- streaming ---------------------------------------------------------------------------------

    async def write(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment or self.finished:
            return
        self._pending.append(fragment)
        self._pending_size += len(fragment)
        if self._pending_size > self.BACKLOG:
            # Text arrives faster than the timer fires (a burst of queued messages never yields
            # to it): render the backlog now, after any flush in progress.
            await self._flush()
            return
        if self._flush_timer is not None:
            return  # a flush is due: it takes this text too
        wait = self._last_flush + self.FLUSH_INTERVAL - time.monotonic()
        if wait > 0 or self._lock.locked():
            self._flush_timer = self.set_timer(max(wait, self.FLUSH_INTERVAL / 2), self._timed_flush)
        else:
            await self._flush()

    async def _timed_flush(self) -> None:
        self._flush_timer = None
        await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            if not self.finished:
                await self._drain()
        self._after_lock()

    async def _drain(self) -> None:
        """Move the pending text into the live piece, sealing it at breaks once it is big enough."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self.display = True  # a hidden preview (workflow text_chunk) shows once text arrives
        # Text between two breaks is at least one block: append a few blocks at a time, and seal
        # the live piece at the first break once it holds SEAL_BLOCKS.
        # (No app.batch_update() around it: held across the awaits, a burst would draw no frame.)
        start = 0
        batch = 0
        for split in self._breaks.feed(text):
            batch += 1
            live = len(self._live.children) if self._live is not None else 0
            if batch >= self.APPEND_BLOCKS or live + batch >= self.SEAL_BLOCKS:
                await self._append(text[start:split])
                start, batch = split, 0
                if self._live is not None and len(self._live.children) >= self.SEAL_BLOCKS:
                    await self._seal()
        await self._append(text[start:])

    async def _append(self, text: str) -> None:
        if not text:
            return
        if self._live is None:
            self._live = Markdown(classes="answer-piece")
            await self.mount(self._live, before=self.status_line)
        self._live_parts.append(text)
        await self._live.append(text)
        self._trim_top(self._live, len(self._pieces))

    async def _seal(self) -> None:
        """Stop writing to the live piece and keep it as it is: ``Markdown.append`` leaves the
        same blocks as a full ``update()`` of its text would (tests/tui/test_streaming.py checks
        it), so nothing is rendered twice."""
        live = self._live
        if live is None:
            return
        piece = Piece("".join(self._live_parts), live)
        self._live, self._live_parts = None, []
        self._refs += link_definitions(piece.text)
        if self._refs and "[" in piece.text:  # a link definition seen so far may apply to it
            await live.update(self._source(piece))
            self._trim_top(live, len(self._pieces))
        # (No CSS class marks it: adding one would restyle all its blocks, ~1 s for 16 of them.)
        blocks = live.query_children(MarkdownBlock)
        piece.bottom_margin = blocks.last().styles.margin.bottom if blocks else 0
        self._pieces.append(piece)
        n = len(self._pieces)
        if self._hi == n - 1:  # the rendered run reaches the end: the piece joins it
            self._hi = n
            self.move_child(self._below, after=live)
            self._pin(piece)
        else:  # the user reads further up: the rendered run ends before it
            self._measure(piece)
            piece.widget = None
            await live.remove()
            self._spacers()

    def _source(self, piece: Piece) -> str:
        piece.refs = len(self._refs)
        if self._refs and "[" in piece.text:
            return piece.text + "\n\n" + "\n".join(self._refs) + "\n"
        return piece.text

    def _trim_top(self, widget: Markdown, index: int) -> None:
        """Collapse the first block's top margin into the previous piece's bottom one, as the
        vertical margins of neighbouring blocks collapse in one document."""
        if index == 0:
            return
        blocks = widget.query_children(MarkdownBlock)
        if not blocks:
            return
        first = blocks.first()
        if getattr(first, "_difytui_trimmed", False):
            return
        first._difytui_trimmed = True  # type: ignore[attr-defined]
        margin = first.styles.margin
        top = max(0, margin.top - self._pieces[index - 1].bottom_margin)
        first.styles.margin = (top, margin.right, margin.bottom, margin.left)

    def _pin(self, piece: Piece) -> None:
        """Fix a rendered piece's height to what it measures: an auto height would make Textual
        arrange all its blocks again (twice, nested in the answer) on every frame."""
        self._measure(piece)
        if piece.widget is not None and piece.height:
            piece.widget.styles.height = piece.height

    def on_resize(self, event: Resize) -> None:
        # Only a new width changes how pieces wrap (pieces kept as text are measured when they
        # are rendered again; until then the spacers are off by the difference).
        if event.size.width != self._width:
            self._width = event.size.width
            for piece in self._pieces:
                if piece.widget is not None:
                    piece.widget.styles.height = "auto"
                    self._pin(piece)

    def _measure(self, piece: Piece) -> None:
        """Record how many lines the piece's widget takes at the current width (asked of the
        layout directly: the last frame may predate its last blocks)."""
        widget = piece.widget
        width = self.size.width or self._expected_width()
        if widget is None or not width:
            return
        self._width = self._width or width  # its first Resize at this width measures nothing again
        gutter = widget.styles.gutter
        size = Size(width, self.size.height)
        piece.height = widget.get_content_height(size, self.app.size, max(1, width - gutter.width))
        piece.height += gutter.height

    def _expected_width(self) -> int:
        """The width the log gives the answer, before its first layout (a burst of text can seal
        many pieces before a frame is drawn; measured 0 lines, they would all stay mounted)."""
        parent = self.parent
        if not isinstance(parent, Widget):
            return 0
        return max(0, parent.scrollable_content_region.width - self.styles.margin.width)

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    # -- the end ---------------------------------------------------------------------------------

    async def replace(self, text: str) -> None:
        """``message_replace``: the whole answer changes (rare; everything is rendered again)."""
        self._cancel_flush()
        async with self._lock:
            self._pending = [clean(text)]
            for piece in self._pieces:
                if piece.widget is not None:
                    await piece.widget.remove()
            if self._live is not None:
                await self._live.remove()
            self._pieces, self._lo, self._hi = [], 0, 0
            self._live, self._live_parts, self._refs = None, [], []
            self._breaks = BreakScanner()
            self._spacers()
            await self._drain()
            if self.finished:
                await self._seal()
        self._after_lock()

    async def finish(self, status: str = "done", note: str = "") -> None:
        """Append what is left and seal the last piece; ``status`` marks how it ended."""
        if self.finished:
            return
        self.finished = True
        self.status = status
        self._cancel_flush()
        async with self._lock:
            await self._drain()
            await self._seal()
            if self._refs:
                await self._render_references()
        if status == "done":
            self._set_status(note, "-done")
        elif status == "stopped":
            self._set_status("⏹ stopped" + (f" — {note}" if note else ""), "-stopped")
        else:
            self._set_status(f"✗ {status}" + (f" — {note}" if note else ""), "-failed")
        self.rendered = True
        self._after_lock()

    async def _render_references(self) -> None:
        """A link definition seen late applies to pieces rendered before it (those on screen now;
        the others get it when they are rendered again)."""
        for index, piece in enumerate(self._pieces):
            if piece.widget is not None and piece.refs < len(self._refs) and "[" in piece.text:
                piece.widget.styles.height = "auto"
                await piece.widget.update(self._source(piece))
                self._trim_top(piece.widget, index)
                self._pin(piece)

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

    def _wanted_window(self) -> tuple[int, int] | None:
        n = len(self._pieces)
        if not self.is_attached or not n:
            return None
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

    @property
    def settled(self) -> bool:
        """Nothing is being rendered or moved, and no move is scheduled (tests wait for it; the
        log's own scheduled refresh is in :attr:`ResponseLog.settled`)."""
        return (
            not self._lock.locked()
            and not self._moves
            and not self._refresh_due
            and self._flush_timer is None
        )

    async def _move_window(self) -> None:
        try:
            async with self._lock:
                wanted = self._wanted_window()
                if wanted is not None and wanted != (self._lo, self._hi):
                    await self._set_window(*wanted)
        finally:
            self._moves -= 1
        if self._window_wanted:
            self._window_wanted = False
            self._refresh_later()

    async def _set_window(self, lo: int, hi: int) -> None:
        drop = [p for i, p in enumerate(self._pieces) if p.widget is not None and not lo <= i < hi]
        for piece in drop:
            assert piece.widget is not None
            self._measure(piece)
            await piece.widget.remove()
            piece.widget = None
        self._lo, self._hi = lo, hi
        self._spacers()
        anchor: Widget = self._above
        for index in range(lo, hi):
            piece = self._pieces[index]
            if piece.widget is None:
                widget = Markdown(classes="answer-piece")
                await self.mount(widget, after=anchor)
                await widget.update(self._source(piece))
                piece.widget = widget
                self._trim_top(widget, index)
                self._pin(piece)
            anchor = piece.widget

    def _spacers(self) -> None:
        above = sum(p.height for p in self._pieces[: self._lo])
        below = sum(p.height for p in self._pieces[self._hi :])
        self._above.styles.height = above
        self._above.display = bool(above)
        self._below.styles.height = below
        self._below.display = bool(below)


def _visible_span(answer: AnswerView) -> tuple[int, int, int] | None:
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
