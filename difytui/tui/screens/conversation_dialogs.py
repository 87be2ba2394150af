"""The conversation list's two dialogs: rename (a typed name, or Dify's model names it) and the
delete confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from difytui.tui.safe_text import clean, one_line
from difytui.tui.startup import styles_dir


@dataclass(frozen=True)
class Rename:
    """The new name; None: let Dify's model name it (``auto_generate``)."""

    name: str | None


class RenameDialog(ModalScreen[Rename | None]):
    CSS_PATH = styles_dir() / "history.tcss"
    HELP_TITLE = "Rename dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+g",
            "auto",
            "Auto-name",
            id="conversations.rename.auto",
            tooltip="Let Dify's model name the conversation (without a working model it keeps its name)",
        ),
        Binding("escape", "cancel", "Cancel", id="conversations.rename.cancel", tooltip="Keep the name"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.old_name = name

    def compose(self) -> ComposeResult:
        title = Text("Rename ", style="bold")
        title.append(
            repr(one_line(self.old_name)) if self.old_name else "the conversation", style="bold cyan"
        )
        hint = Text("Enter renames · ctrl+g lets Dify name it · Escape cancels", style="dim")
        with Vertical(classes="conv-dialog"):
            yield Static(title, markup=False)
            yield Input(clean(one_line(self.old_name)), placeholder="a new name", id="rename-input")
            yield Static("", id="rename-error", markup=False)
            yield Static(hint, markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name:
            self.query_one("#rename-error", Static).update(
                Text("Type a name, or press ctrl+g to let Dify name it.")
            )
            return
        self.dismiss(Rename(name))

    def action_auto(self) -> None:
        self.dismiss(Rename(None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDelete(ModalScreen[bool]):
    CSS_PATH = styles_dir() / "history.tcss"
    HELP_TITLE = "Delete dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "y,enter",
            "answer(True)",
            "Delete",
            id="conversations.delete.yes",
            tooltip="Delete it on Dify (it cannot be undone)",
        ),
        Binding("n,escape", "answer(False)", "Keep", id="conversations.delete.no", tooltip="Keep it"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.conversation_name = name

    def compose(self) -> ComposeResult:
        text = Text("Delete ", style="bold")
        text.append(repr(one_line(self.conversation_name)) or "this conversation", style="bold cyan")
        text.append(" on Dify?\n", style="bold")
        text.append("Its messages go with it; this cannot be undone.\n\n")
        text.append("y / Enter deletes · n / Escape keeps it", style="dim")
        with Vertical(classes="conv-dialog"):
            yield Static(text, markup=False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
