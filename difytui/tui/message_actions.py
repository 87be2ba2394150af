"""Actions on a chat's answers, current or from history: pick one (alt+↑/↓, the last by default),
rate it (like, dislike, clear, or with a comment: Dify's feedback), copy it (ctrl+y); and the app's
suggested questions after an answer.

Each answer gets an :class:`AnswerBar` just below it: it holds the answer's message id and the
rating Dify has for it, and shows that rating, and which answer is selected once the user picked
one. The requests run in :mod:`difytui.tui.runner` workers; the handlers here only update the bars.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.history_answer import HistoryAnswer

if TYPE_CHECKING:
    from textual.worker import Worker

    from difytui.history import Rating
    from difytui.tui.models import AppItem, PaneContext
    from difytui.tui.run_controller import ActiveRun, RunController
    from difytui.tui.widgets.response_log import ResponseLog

SHOWN: dict[str, str] = {"like": "👍 liked", "dislike": "👎 disliked"}
HINT = "alt+↑/↓ pick · alt+l like · alt+d dislike · alt+x clear · alt+c comment · ctrl+y copy"


class AnswerBar(Static):
    """The line under one answer: its rating (hidden when there is none and it is not selected)."""

    DEFAULT_CSS = """
    AnswerBar { height: auto; padding: 0 1; color: $text-muted; display: none; }
    AnswerBar.-rated { color: $text; }
    AnswerBar.-selected { color: $accent; text-style: bold; }
    """

    def __init__(
        self,
        message_id: str | None,
        text: str | Callable[[], str],
        answer: Widget,
        rating: object = None,
    ) -> None:
        super().__init__("", markup=False, classes="answer-bar")
        self.message_id = message_id
        self._text = text  # a streamed answer's text is read when it is copied
        self.answer = answer  # the answer's widget (scrolled to when it is picked)
        self.rating = rating if rating in SHOWN else None
        self.comment: str | None = None
        self.saving = False
        self.selected = False

    @property
    def text(self) -> str:
        """The answer's text (what ctrl+y copies)."""
        return self._text if isinstance(self._text, str) else self._text()

    @classmethod
    def for_history(cls, item: dict[str, Any], answer: Widget) -> AnswerBar:
        """A history message's bar: ``GET /messages`` gives its id and ``feedback: {"rating"}``."""
        feedback = item.get("feedback")
        rating = feedback.get("rating") if isinstance(feedback, dict) else None
        return cls(str(item.get("id") or "") or None, clean(str(item.get("answer") or "")), answer, rating)

    def on_mount(self) -> None:
        self.show_state()

    def show_state(self) -> None:
        line = Text()
        if self.selected:
            line.append("▲ selected answer  ")
        if self.rating:
            line.append(SHOWN[self.rating])
            if self.comment:
                line.append(f" — {one_line(self.comment)}")
        if self.saving:
            line.append("  saving…" if line else "saving…", style="italic")
        if self.selected:
            line.append("\n" + HINT, style="dim not bold")
        self.set_class(bool(self.rating), "-rated")
        self.set_class(self.selected, "-selected")
        self.update(line)
        self.display = bool(line)


class MessageActions:
    """Mixed into the chat pane (an ``AppPane``): the answer keys (keys.ANSWER_BINDINGS), their
    palette entries' targets, and the handlers of the workers' replies."""

    # The pane's (AppPane / Widget) attributes used here.
    item: AppItem
    ctx: PaneContext
    parameters: dict[str, Any]
    runs: RunController
    log_view: ResponseLog
    notify: Callable[..., None]
    run_worker: Callable[..., Worker[Any]]
    post_message: Callable[..., bool]
    app: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._selected_bar: AnswerBar | None = None  # None: the last answer
        self._message_ids: dict[int, str] = {}  # run id → its answer's message id

    def on_run_ids(self, message: m.RunIds) -> None:
        # (AppPane's own RunIds handler runs too: Textual calls one per class of the MRO.)
        if message.message_id:
            self._message_ids[message.run_id] = message.message_id

    # -- which answer ---------------------------------------------------------------------------

    def answer_bars(self) -> list[AnswerBar]:
        return list(self.log_view.query_children(AnswerBar))

    def selected_bar(self) -> AnswerBar | None:
        """The picked answer, else the last one."""
        bars = self.answer_bars()
        picked = self._selected_bar
        return picked if picked is not None and picked in bars else (bars[-1] if bars else None)

    def selected_answer(self) -> tuple[str, bool]:
        """(the selected answer's text, whether it is the last answer) for ctrl+y."""
        bars = self.answer_bars()
        bar = self.selected_bar()
        return (bar.text, bar is bars[-1]) if bar is not None else ("", True)

    def _select(self, bar: AnswerBar | None) -> None:
        for other in self.answer_bars():
            if other.selected and other is not bar:
                other.selected = False
                other.show_state()
        self._selected_bar = bar
        if bar is not None and not bar.selected:
            bar.selected = True
            bar.show_state()

    def action_answer_move(self, step: int) -> None:
        """alt+↑ / alt+↓: select the previous / next answer and scroll to it."""
        bars = self.answer_bars()
        if not bars:
            self.notify("No answer yet.", severity="warning")
            return
        current = self.selected_bar()
        index = bars.index(current) if current is not None else len(bars) - 1
        if current is not None and not current.selected:  # the first press marks the last answer
            step = min(step, 0)
        bar = bars[max(0, min(len(bars) - 1, index + step))]
        self._select(bar)
        log = self.log_view
        if bar is bars[-1]:
            log.scroll_end(animate=False)
            log.anchor()
        else:
            log.release_anchor()
            log.scroll_to_widget(bar.answer, top=True, animate=False)
            if isinstance(bar.answer, HistoryAnswer):
                bar.answer.scrolled_to()

    # -- rating ---------------------------------------------------------------------------------

    def _rated_target(self) -> AnswerBar | None:
        bar = self.selected_bar()
        if bar is None:
            self.notify("No answer to rate yet.", severity="warning")
        elif not bar.message_id:
            self.notify("This answer has no message id from Dify: it cannot be rated.", severity="warning")
        elif bar.saving:
            self.notify("Still saving this answer's last rating…", severity="warning")
        else:
            return bar
        return None

    def action_answer_rate(self, rating: Rating | None) -> None:
        """alt+l / alt+d / alt+x: like, dislike or clear the selected answer's rating."""
        bar = self._rated_target()
        if bar is not None:
            self._send_feedback(bar, rating, None)

    def action_answer_comment(self) -> None:
        """alt+c: a small dialog for a comment, then like or dislike with it."""
        bar = self._rated_target()
        if bar is None:
            return
        from difytui.tui.screens.feedback import FeedbackScreen

        def chosen(result: tuple[Rating, str] | None) -> None:
            if result is not None and bar.is_attached:
                self._send_feedback(bar, result[0], result[1] or None)

        screen = FeedbackScreen(bar.rating, bar.comment or "", bar.text)
        self.app.push_screen(screen, chosen)

    def _send_feedback(self, bar: AnswerBar, rating: Rating | None, comment: str | None) -> None:
        assert bar.message_id
        bar.saving = True
        bar.show_state()
        self.run_worker(
            runner.send_feedback(
                self.ctx.client, self.item.id, bar.message_id, rating, comment, self.post_message
            ),
            name="saving feedback",
            group="feedback",
            exit_on_error=False,
        )

    def on_feedback_saved(self, message: m.FeedbackSaved) -> None:
        for bar in self.answer_bars():
            if bar.message_id == message.message_id:
                bar.saving = False
                bar.rating, bar.comment = message.rating, message.comment
                bar.show_state()

    def on_feedback_failed(self, message: m.FeedbackFailed) -> None:
        for bar in self.answer_bars():
            if bar.message_id == message.message_id:
                bar.saving = False
                bar.show_state()
        self.notify(message.text, severity="error", markup=False)

    # -- new answers ----------------------------------------------------------------------------

    async def answer_ended(self, run: ActiveRun, status: str) -> None:
        """A streamed answer ended: it gets its bar and becomes the selected one; the app's
        suggested questions follow it when its parameters switch them on."""
        answer = run.answer
        if answer is None:
            return
        message_id = self._message_ids.pop(run.run_id, None)
        feature = self.parameters.get("suggested_questions_after_answer")
        if status == "succeeded" and message_id and isinstance(feature, dict) and feature.get("enabled"):
            # Its reply is handled after this (the pane's messages are handled one at a time).
            self.run_worker(
                runner.load_suggestions(self.ctx.client, self.item.id, message_id, self.post_message),
                name="loading suggested questions",
                group="suggestions",
                exclusive=True,
                exit_on_error=False,
            )
        await self.log_view.mount(AnswerBar(message_id, lambda: answer.text, answer), after=answer)
        self._select(None)

    async def on_suggestions_loaded(self, message: m.SuggestionsLoaded) -> None:
        bars = self.answer_bars()
        if self.runs.running or not bars or bars[-1].message_id != message.message_id:
            return  # the conversation has moved on
        from difytui.tui.widgets.chat_pane import SuggestedQuestion

        numbered = enumerate(message.questions[:3], start=1)
        row = Vertical(*(SuggestedQuestion(q, n) for n, q in numbered), classes="suggestions -after-answer")
        await self.log_view.add(row)
