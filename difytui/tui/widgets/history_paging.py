"""A chat pane's earlier turns: the newest page of its conversation first, older ones as the user
scrolls up (Dify's ``first_id`` paging, through the library's MessagePager: none twice, none lost).

A marker line tops the history: "scroll up for earlier messages" while there are more, "start of
the conversation" once the pager has read it all. Older pages mount under that marker, and the
view keeps the turn the user was reading where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from difytui.history import Message as HistoryMessage
from difytui.history import MessagePager
from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.message_actions import AnswerBar
from difytui.tui.safe_text import clean
from difytui.tui.widgets.history_answer import HistoryAnswer, HistoryFiller, layout_is_fresh
from difytui.tui.widgets.response_log import Notice, UserTurn

if TYPE_CHECKING:
    from textual.app import App

    from difytui.tui.models import AppItem, PaneContext
    from difytui.tui.widgets.response_log import ResponseLog

#: messages per page (Dify allows 100): each page costs a few layouts of the whole log, so fewer,
#: larger pages scroll back faster (250 messages: 10 s in pages of 50, 18 s in pages of 20)
PAGE_SIZE = 50
#: rows from the top of the log at which the next older page loads
NEAR_TOP = 3

MORE = "— earlier in this conversation · scroll up for more —"
START = "— earlier in this conversation · its start —"


def turn_widgets(
    messages: list[HistoryMessage], answer_widget: Callable[[HistoryMessage], Widget] = HistoryAnswer
) -> list[Widget]:
    """Widgets for ``messages`` (oldest first): the query, then the answer (``answer_widget``: the
    benchmark's old plain one) or its error."""
    widgets: list[Widget] = []
    for message in messages:
        if message.query:
            widgets.append(UserTurn(message.query))
        if message.answer:
            answer = answer_widget(message)
            # its bar: rating shown, and the answer keys (message_actions) can pick it
            widgets += [answer, AnswerBar.for_history(message.raw, answer)]
        elif message.error:
            widgets.append(Notice(f"✗ {message.error}", "error"))
    return widgets


__all__ = ["HistoryAnswer", "HistoryPaging", "turn_widgets"]


class HistoryPaging:
    """Mixed into ChatPane (its handlers are found by name along the class's MRO)."""

    if TYPE_CHECKING:
        item: AppItem
        ctx: PaneContext
        conversation_id: str | None

        @property
        def log_view(self) -> ResponseLog: ...
        def run_worker(self, *args: Any, **kwargs: Any) -> Any: ...
        def watch(self, *args: Any, **kwargs: Any) -> None: ...
        def call_after_refresh(self, *args: Any, **kwargs: Any) -> bool: ...
        def post_message(self, message: Any) -> bool: ...
        def history_gone(self, conversation_id: str, text: str) -> None: ...
        @property
        def app(self) -> App[Any]: ...

    _history_pager: MessagePager | None = None
    _history_filler: HistoryFiller | None = None
    _history_marker: Static | None = None
    history_loading = False
    #: messages shown from the history, and whether that is all of them
    history_count = 0
    history_complete = False

    async def start_history(self) -> None:
        """Show the current conversation's newest turns (the log holds nothing of it yet)."""
        if not self.conversation_id:
            return
        self._history_pager = MessagePager(PAGE_SIZE)
        if self._history_filler is not None:
            self._history_filler.stop()
        self._history_filler = HistoryFiller(self, self.log_view, self._history_filled)  # type: ignore[arg-type]
        self.history_loading = False
        self.history_count = 0
        self.history_complete = False
        self._history_marker = Static(Text(MORE, style="dim"), classes="history-sep", markup=False)
        await self.log_view.add(self._history_marker)
        self.watch(self.log_view, "scroll_y", self._history_scrolled, init=False)
        self.load_older()

    @property
    def history_more(self) -> bool:
        pager = self._history_pager
        return pager is not None and pager.next_query() is not None

    def load_older(self) -> None:
        pager = self._history_pager
        if pager is None or self.history_loading or not self.conversation_id or not self.history_more:
            return
        self.history_loading = True
        self.run_worker(
            runner.load_messages(
                self.ctx.client, self.item.id, self.conversation_id, pager, self.post_message
            ),
            name="loading the conversation",
            group="history",
            exit_on_error=False,
        )

    def _history_scrolled(self, _old: float, new: float) -> None:
        if new <= NEAR_TOP:
            self.load_older()

    async def on_messages_page(self, message: m.MessagesPage) -> None:
        if message.pager is not self._history_pager:
            return  # a page of a conversation no longer shown
        marker, filler = self._history_marker, self._history_filler
        if marker is None or not marker.is_attached or filler is None:
            self.history_loading = False
            return
        log = self.log_view
        first_page = self.history_count == 0
        widgets = turn_widgets(message.messages[::-1])
        answers = [w for w in widgets if isinstance(w, HistoryAnswer)]
        self.history_count += len(message.messages)
        # keep the turn the user reads in place: older turns push it down by their height
        below = marker.virtual_region.bottom
        old_top = next((w for w in log.children if w.virtual_region.y >= below and w is not marker), None)
        offset = old_top.virtual_region.y - log.scroll_y if old_top is not None else 0
        if first_page:
            with self.app.batch_update():  # one frame: the turns, the first screen's answers filled
                await log.mount_all(widgets, after=marker)
                await self._fill_first_screen(answers)
        elif widgets:
            await log.mount_all(widgets, after=marker)
        # The other answers are filled from the bottom up, a few per frame; the page is loaded
        # (history_loading) once they all are.
        filler.add(answers)
        if not message.more:
            self.history_complete = not message.pager.gap
            marker.update(Text(START, style="dim"))
            if message.pager.gap:
                await log.mount(
                    Notice("Over 100 messages share one second here: Dify cannot list the rest.", "warning"),
                    after=marker,
                )
        if first_page:
            log.anchor()
            self.call_after_refresh(filler.start)
        elif old_top is not None:
            self.call_after_refresh(self._keep_in_place, old_top, offset)
        else:
            filler.start()

    async def _fill_first_screen(self, answers: list[HistoryAnswer]) -> None:
        """The newest answers, as many as fill the log's height (the log shows its end)."""
        lines = self.log_view.scrollable_content_region.height
        for answer in reversed(answers):
            if lines <= 0:
                break
            await answer.fill(answer.source)
            lines -= sum(piece.height for piece in answer.pieces) + 2  # its query's line and margins

    def _keep_in_place(self, widget: Widget, offset: int) -> None:
        log = self.log_view
        if widget.is_attached and not layout_is_fresh(log):
            self.call_after_refresh(self._keep_in_place, widget, offset)  # the page is not laid out yet
            return
        if widget.is_attached:
            log.scroll_to(y=widget.virtual_region.y - offset, animate=False, immediate=True)
        if self._history_filler is not None:
            self._history_filler.start()

    def _history_filled(self) -> None:
        """Every answer shown is filled: the page is loaded."""
        self.history_loading = False
        self._fill_view()

    def _fill_view(self) -> None:
        """Still at the top (a short page, a view not yet full): the next older page."""
        if self.log_view.scroll_y <= NEAR_TOP:
            self.load_older()

    async def on_messages_failed(self, message: m.MessagesFailed) -> None:
        if message.pager is not self._history_pager:
            return
        self.history_loading = False
        self._history_pager = None  # nothing more to page: a failed page is not retried by scrolling
        marker = self._history_marker
        if message.unavailable:
            text = f"— earlier turns are not shown: {message.message} —"
            if marker is not None and marker.is_attached:
                marker.update(Text(text, style="dim"))
            return
        if message.gone:
            self.history_gone(message.conversation_id, message.message)
            return
        if marker is not None and marker.is_attached:
            marker.update(
                Text(f"— earlier turns could not be loaded: {clean(message.message)} —", style="dim")
            )
