"""One streamed answer: pieces of lines, sealed at safe breaks, and kept as text when far off screen.

Text streams into a *live* piece (:class:`.LinePiece`): the text up to the last break (:mod:`.breaks`)
is added as parts, each rendered once, and the text after it is the open tail, the only thing
rendered again as the answer grows. So a flush costs the same at any length of the answer. Once the
live piece holds ``SEAL_BLOCKS`` parts it is *sealed* (never touched again) and a new live piece
continues. When the answer ends, the tail becomes a part and the live piece is sealed too: the end
costs the same at any length.

Sealed pieces far from the viewport are dropped and stand as text behind a blank spacer of their
height (:mod:`.piece_window`); they are rendered again when they come back near the viewport.
So a long chat holds its text, not thousands of lines.

Every change of the pieces (appends, seals, the final render, the window) runs under one lock:
a flush suspended in a mount must never interleave with another one or with the final render.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from difytui.tui.safe_text import clean, literal
from difytui.tui.widgets.breaks import BreakScanner, link_definitions
from difytui.tui.widgets.line_piece import GUTTER, LinePiece
from difytui.tui.widgets.piece_window import Piece, PieceWindow, Spacer

__all__ = ["AnswerView", "Piece", "Spacer"]


class AnswerView(PieceWindow):
    """One streamed answer; a status line says how it ended."""

    #: Tokens reach the live piece at most this often (the first at once): each flush renders
    #: the tail again, so 150 tokens/s must not mean 150 renders/s.
    FLUSH_INTERVAL = 1 / 20
    SEAL_BLOCKS = 16
    #: Characters that may wait for the next flush; beyond that ``write`` flushes and waits for
    #: it, so the text never runs far ahead of the screen.
    BACKLOG = 2000

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self._live: LinePiece | None = None
        #: a piece's widget that left the window while the answer streams: the next live piece
        #: (hidden, emptied, before the status line)
        self._spare: LinePiece | None = None
        self._tail = ""  # the text after the last break (the live piece's open tail)
        self._fed = 0  # characters given to the break scanner
        self._pending: list[str] = []
        self._pending_size = 0
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._breaks = BreakScanner()
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
        live = self._live.source if self._live is not None else ""
        return "".join([*(p.text for p in self._pieces), live, *self._pending])

    @property
    def last_piece(self) -> LinePiece | None:
        """The last rendered piece (the live one while streaming)."""
        pieces = [piece for piece in self.query_children(LinePiece) if piece.display]
        return pieces[-1] if pieces else None

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
            # to it): render the backlog now, after any flush in progress. Then let the loop run
            # a frame and the rest: the caller's message loop takes queued tokens without
            # yielding, so a burst rendered backlog after backlog in one block of the loop.
            await self._flush()
            await asyncio.sleep(0)
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
        """Move the pending text into the live piece: each text up to a break is a part (rendered
        once), the rest its tail; the live piece is sealed once it holds SEAL_BLOCKS parts."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self.display = True  # a hidden preview (workflow text_chunk) shows once text arrives
        start = 0
        for split in self._breaks.feed(text):
            part, self._tail = self._tail + text[start:split], ""
            start = split
            if part:
                live = await self._live_piece()
                live.add_part(part)
                if live.part_count >= self.SEAL_BLOCKS:
                    await self._seal()
        self._tail += text[start:]
        self._fed += len(text)
        if self._tail:
            # A fence still open is shown plain, its new lines only: highlighting it whole on
            # every flush would grow with the fence.
            fence = self._breaks.fence_start
            tail_start = self._fed - len(self._tail)
            fence_at = fence - tail_start if fence is not None and fence >= tail_start else None
            (await self._live_piece()).set_tail(self._tail, fence_at)
        self._render_live()

    def _render_live(self) -> None:
        """Render what arrived now, at the width the layout will ask for: in a burst frames lag,
        and the next frame's layout rendered every part added since the last one (blocks of the
        loop of 15-35 ms, each part rendered inside a layout of the screen)."""
        width = self.size.width or self._expected_width()
        if self._live is not None and width:
            self._live.line_count(max(1, width - GUTTER))

    async def _live_piece(self) -> LinePiece:
        if self._live is None:
            spare = [self._spare] if self._spare is not None else []
            self._spare = None
            live = self._live = self._widget_for(len(self._pieces), spare)
            if live.parent is self:
                self.move_child(live, before=self.status_line)
            else:
                await self.mount(live, before=self.status_line)
        return self._live

    async def _let_go(self, widget: LinePiece) -> None:
        if self.finished or self._spare is not None:
            await widget.remove()
            return
        widget.set_parts([])
        widget.display = False
        self.move_child(widget, before=self.status_line)
        self._spare = widget

    async def _drop_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            await spare.remove()

    def _close_tail(self) -> None:
        """The answer ended: the tail is a part like the others (a last fence highlighted)."""
        if self._live is not None and self._tail:
            self._live.add_part(self._tail)
        self._tail = ""

    async def _seal(self) -> None:
        """Stop writing to the live piece and keep it as it is: its parts render as the whole
        text would (tests/tui/test_streaming.py checks it), so nothing is rendered twice."""
        live = self._live
        if live is None:
            return
        piece = Piece(live.source, live)
        self._live = None
        self._refs += link_definitions(piece.text)
        if self._refs and "[" in piece.text:  # a link definition seen so far may apply to it
            live.set_parts([(piece.text, self._source(piece))])
        self._pieces.append(piece)
        n = len(self._pieces)
        if self._hi == n - 1:  # the rendered run reaches the end: the piece joins it
            await self._join_end(piece, live)
        else:  # the user reads further up: the rendered run ends before it
            self._measure(piece)
            piece.widget = None
            await self._let_go(live)
            self._spacers()

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

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    # -- a whole answer at once ------------------------------------------------------------------

    async def fill(self, text: str, keep: bool = True) -> None:
        """The whole answer at once (one from the conversation's history), already ended: cut into
        pieces of ``SEAL_BLOCKS`` blocks at breaks, each rendered once, measured
        and sealed; no timers, no status line. ``keep=False``: each piece is dropped as soon as it
        is measured (an answer off screen: its text behind a spacer, as the window leaves it).
        Call it once the answer is mounted in the log (its width is the log's)."""
        if self.finished:
            return
        self.finished = True
        self.status = "done"
        self.status_line.display = False
        text = clean(text)
        width = self._expected_width()  # (not self.size: off screen, that maps the whole screen)
        self._width = self._width or width  # its first Resize at this width measures nothing again
        async with self._lock:
            self._refs = link_definitions(text)  # the whole document is known: every piece gets them
            start, blocks = 0, 0
            for split in BreakScanner().feed(text):
                blocks += 1
                if blocks >= self.SEAL_BLOCKS:
                    await self._fill_piece(text[start:split], width, keep)
                    start, blocks = split, 0
            await self._fill_piece(text[start:], width, keep)
            if not keep:
                self._lo = self._hi = len(self._pieces)
                self._spacers()
        self.rendered = True
        self._after_lock()

    async def _fill_piece(self, text: str, width: int, keep: bool) -> None:
        if not text:
            return
        index = len(self._pieces)
        widget = self._piece_widget(index)
        piece = Piece(text, widget)
        widget.set_parts([(text, self._source(piece))])
        self._pieces.append(piece)
        self._measure(piece, width)
        if keep:
            await self.mount(widget, before=self._below)
            self._hi = len(self._pieces)
        else:
            piece.widget = None

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
            await self._drop_spare()
            self._pieces, self._lo, self._hi = [], 0, 0
            self._live, self._tail, self._refs = None, "", []
            self._breaks, self._fed = BreakScanner(), 0
            self._spacers()
            await self._drain()
            if self.finished:
                self._close_tail()
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
            self._close_tail()
            await self._seal()
            await self._drop_spare()
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
        for piece in self._pieces:
            if piece.widget is not None and piece.refs < len(self._refs) and "[" in piece.text:
                piece.widget.set_parts([(piece.text, self._source(piece))])
                self._measure(piece)
        self._spacers()
