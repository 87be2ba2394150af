"""A one-line key hint built once from a screen's bindings: a light stand-in for Textual's Footer.

The Footer is a container of one widget per key, recomposed whenever bindings or focus change:
building it cost about 50 ms of the Runs view's first frame. A screen whose keys do not change
while it is open can show them in one line of text instead. Like the compact Footer it lists the
bindings with ``show`` set, as ``key Description``, and a click on one presses its key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widget import Widget


class KeyLine(Widget):
    """The shown ``bindings`` of a screen, in their order, on one line."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-line--key", "key-line--description"}
    DEFAULT_CSS = """
    KeyLine {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        color: $footer-foreground;
        background: $footer-background;
        .key-line--key {
            color: $footer-key-foreground; background: $footer-key-background; text-style: bold;
        }
        .key-line--description {
            color: $footer-description-foreground; background: $footer-description-background;
        }
    }
    """

    def __init__(self, bindings: Iterable[BindingType], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bindings = [binding for binding in Binding.make_bindings(bindings) if binding.show]
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each hint, for clicks

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-line--key")
        description_style = self.get_component_rich_style("key-line--description")
        text = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for binding in self.bindings:
            start = len(text)
            text.append(self.app.get_key_display(binding), key_style)
            text.append(f" {binding.description}", description_style)
            self._spans.append((start, len(text), binding.key))
            text.append(" ")
        return text

    def hints(self) -> str:
        """The line as plain text (what a test reads)."""
        return " ".join(f"{self.app.get_key_display(b)} {b.description}" for b in self.bindings)

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
