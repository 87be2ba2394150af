"""alt+c on an answer: a comment, then like or dislike it (Dify keeps one rating and one comment)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from difytui.history import Rating
from difytui.tui.safe_text import one_line

PREVIEW = 70  # characters of the answer shown, to say which one is rated


class FeedbackScreen(ModalScreen[tuple[Rating, str] | None]):
    """Dismissed with (rating, comment), or None. Enter in the comment keeps the answer's rating
    (like when it has none); the buttons choose one."""

    DEFAULT_CSS = """
    FeedbackScreen { align: center middle; }
    #feedback-box { width: 64; max-width: 95%; height: auto; border: round $accent; padding: 0 1;
                    background: $surface; }
    #feedback-preview { color: $text-muted; }
    #feedback-buttons { height: auto; margin-top: 1; }
    #feedback-buttons Button { margin-right: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="feedback.cancel", tooltip="Close without rating"),
    ]

    def __init__(self, rating: str | None, comment: str, answer: str) -> None:
        super().__init__(id="feedback")
        self.rating: Rating = "dislike" if rating == "dislike" else "like"
        self.comment = comment
        self.answer = answer

    def compose(self) -> ComposeResult:
        with Vertical(id="feedback-box"):
            yield Static(Text("Rate this answer", style="bold"), markup=False)
            preview = one_line(self.answer)
            preview = preview if len(preview) <= PREVIEW else preview[: PREVIEW - 1] + "…"
            yield Static(Text(preview), id="feedback-preview", markup=False)
            yield Input(self.comment, placeholder="comment (optional)", id="feedback-comment")
            with Horizontal(id="feedback-buttons"):
                yield Button("👍 Like", id="feedback-like", compact=True)
                yield Button("👎 Dislike", id="feedback-dislike", compact=True)
                yield Button("Cancel", id="feedback-cancel", compact=True)
            hint = f"Enter: {self.rating} · Tab: the buttons · Escape: cancel"
            yield Static(Text(hint, style="dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one("#feedback-comment", Input).focus()

    def _comment(self) -> str:
        return self.query_one("#feedback-comment", Input).value.strip()

    @on(Input.Submitted, "#feedback-comment")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((self.rating, self._comment()))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "feedback-like":
            self.dismiss(("like", self._comment()))
        elif event.button.id == "feedback-dislike":
            self.dismiss(("dislike", self._comment()))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
