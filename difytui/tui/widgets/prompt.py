"""The chat prompt: Enter sends, alt+enter (or ctrl+j, shift+enter) inserts a newline.

Terminals send alt+enter as ESC CR, which Textual reads as plain enter: see terminal_keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from difytui.tui.keys import NEWLINE, PAGE_DOWN, PAGE_UP


class Prompt(TextArea):
    # The prompt is a few lines high: paging scrolls the conversation instead.
    BINDINGS: ClassVar[list[Any]] = [NEWLINE, PAGE_UP, PAGE_DOWN]

    @dataclass
    class Submitted(Message):
        prompt: Prompt
        text: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.placeholder = "Message — Enter sends, alt+enter adds a line"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")
