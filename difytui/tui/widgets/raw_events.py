"""Every raw event of the pane's runs, as one JSON line each, in order (toggled with ctrl+t)."""

from __future__ import annotations

from typing import Any

from textual.widgets import RichLog

from difytui.tui.safe_text import json_line

MAX_EVENTS = 20_000


class RawEvents(RichLog):
    """Keeps the events while hidden and writes them when shown, so hiding costs nothing per token."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_lines=MAX_EVENTS, wrap=True, markup=False, highlight=False, **kwargs)
        self.events: list[dict[str, Any]] = []
        self._written = 0

    def record(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if len(self.events) > MAX_EVENTS:
            drop = len(self.events) - MAX_EVENTS
            del self.events[:drop]
            self._written = max(0, self._written - drop)
        if self.display and self.size.width:
            self._flush()

    def _flush(self) -> None:
        for event in self.events[self._written :]:
            self.write(json_line(event))
        self._written = len(self.events)

    def on_show(self) -> None:
        # After the next refresh the log knows its width, so lines wrap to the visible size.
        self.call_after_refresh(self._flush)

    def note(self, text: str) -> None:
        """A separator between runs."""
        self.events.append({"difytui": text})
        if self.display:
            self._flush()
