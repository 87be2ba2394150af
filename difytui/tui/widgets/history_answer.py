"""Answers from a conversation's history: AnswerViews filled at once, when their turn comes.

A page of history mounts its answers empty (the queries and the answer bars are there at once);
a :class:`HistoryFiller` fills them from the bottom up, a few per frame, an answer in view first.
An answer filled above the viewport grows upwards: the view is scrolled by its growth, so what
the user reads stays where it is. Once filled, an answer is windowed as a streamed one is: its
pieces far from the viewport are kept as text behind spacers (:mod:`.piece_window`), so a long
history holds its text, not thousands of lines laid out on every frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.widget import Widget

from difytui.history import Message as HistoryMessage
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.piece_window import _visible_span

if TYPE_CHECKING:
    from textual.worker import Worker

    from difytui.tui.widgets.response_log import ResponseLog


def layout_is_fresh(widget: Widget) -> bool:
    """Whether positions read now are those of the current layout. (``call_after_refresh``
    callbacks also run while a batch, as ``fill_in_place`` holds, keeps the layout back.)"""
    try:
        return not widget.app._batch_count and not widget.screen._layout_required
    except Exception:  # no screen (detached): nothing to read either way
        return True


class HistoryAnswer(AnswerView):
    """An answer from the conversation's history, with its message id (for actions on it)."""

    def __init__(self, message: HistoryMessage) -> None:
        super().__init__(classes="history-answer")
        self.message_id = message.id
        self.rating = message.rating
        self.source = message.answer
        # Until it is filled its status line shows "…" (as a streamed answer's does before its
        # text): one line, so that it is on screen while it waits, and the filler is told so.
        self.filler: HistoryFiller | None = None  # fills it when its turn comes
        self._from_top = False

    def scrolled_to(self) -> None:
        """The view was put at its top (alt+↑/↓ picked it): once filled it grows downwards."""
        self._from_top = True
        if not self.finished and self.filler is not None:
            self.filler.first(self)

    @property
    def settled(self) -> bool:
        return self.finished and super().settled  # an answer still to fill is work due

    def refresh_window(self) -> None:
        if self.finished:
            super().refresh_window()
        elif self.filler is not None and _visible_span(self) is not None:
            self.filler.first(self)  # in view: filled next

    async def fill_in_place(self, log: ResponseLog) -> bool:
        """Fill it; above the viewport's top, scroll the log by its growth (what is in view stays).
        Where it is comes from the last frame: filled from the bottom up, the answers above it
        have not moved since. False once the view could not be kept in place at once."""
        if self.finished or not self.is_attached:
            return True
        span = _visible_span(self)
        if span is None:  # off screen: above the view, or below it
            first = _first_visible(log)
            above = first is not None and log.children.index(self) < first
        elif self._from_top:  # scrolled to (alt+↑): it shows from its top, unless that is cut off
            above = span[0] > 0
        else:  # in view as the user scrolls back: what they read below it stays
            above = True
        before = 1 if self.status_line.display else 0  # its "…" line
        with self.app.batch_update():  # no frame between the growth and the scroll
            await self.fill(self.source, keep=span is not None)
            grown = sum(piece.height for piece in self.pieces) - before
            if log.follows_end or not above or not grown:
                return True
            target = log.scroll_y + grown
            log.scroll_to(y=target, animate=False, immediate=True)
        if log.scroll_y < target:
            # Past the end of the last layout (the view was near the log's end): the rest of the
            # scroll once the log has grown.
            log.call_after_refresh(lambda: log.scroll_to(y=target, animate=False, immediate=True))
            return False
        return True


def _first_visible(log: ResponseLog) -> int | None:
    """The index of the log's first item on screen in the last frame (None: none is)."""
    try:
        visible = log.screen._compositor.visible_widgets
    except Exception:  # no screen (yet)
        return None
    return next((index for index, child in enumerate(log.children) if child in visible), None)


class HistoryFiller:
    """Fills the history answers of one log from the bottom up: the newest ones, nearest to where
    the user starts reading, first; those of an older page after those of the newer ones."""

    #: seconds of filling between two frames (each answer is one parse and mount; while one is
    #: filled the app draws nothing)
    BUDGET = 0.5

    def __init__(self, host: Widget, log: ResponseLog, done: Callable[[], None]) -> None:
        self._host = host  # runs the worker
        self._log = log
        self._done = done  # called once nothing is left to fill
        self._queue: list[HistoryAnswer] = []  # top to bottom: filled from the end
        self._bumped: set[HistoryAnswer] = set()
        self._worker: Worker[None] | None = None

    def add(self, answers: list[HistoryAnswer]) -> None:
        """Answers mounted above those queued (an older page): filled after them."""
        for answer in answers:
            answer.filler = self
        self._queue[:0] = [answer for answer in answers if not answer.finished]

    def first(self, answer: HistoryAnswer) -> None:
        """``answer`` is in view: it is filled next (once the filler runs: a page just mounted
        waits for the view to be put back first)."""
        if answer in self._queue and self._queue[-1] is not answer:
            self._queue.remove(answer)
            self._queue.append(answer)
            self._bumped.add(answer)

    def start(self) -> None:
        if self._worker is None or self._worker.is_finished:
            self._worker = self._host.run_worker(
                self._fill(), name="showing the history", group="history-fill", exit_on_error=False
            )

    def stop(self) -> None:
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    async def _fill(self) -> None:
        fresh = False  # positions are those of the last layout
        started = 0.0
        while self._queue:
            if not fresh or time.monotonic() - started > self.BUDGET:
                # A frame (the app draws), and positions read from a fresh layout.
                await self._host.wait_for_refresh()
                while not layout_is_fresh(self._host):
                    await self._host.wait_for_refresh()
                started = time.monotonic()
            answer = self._queue.pop()
            kept = await answer.fill_in_place(self._log)
            # Filled out of order (it was in view), those below it have moved.
            fresh = kept and answer not in self._bumped
            self._bumped.discard(answer)
        self._done()
