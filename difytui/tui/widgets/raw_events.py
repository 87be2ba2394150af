"""Every raw event of the pane's runs, as one JSON line each, in order (toggled with ctrl+t)."""

from __future__ import annotations

from collections import deque
from typing import Any

from textual.widgets import RichLog

from difytui.tui.safe_text import json_line

MAX_EVENTS = 20_000


class RawEvents(RichLog):
    """Keeps the events while hidden and writes them when shown, so hiding costs nothing per token."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_lines=MAX_EVENTS, wrap=True, markup=False, highlight=False, **kwargs)
        # A deque drops the oldest event in O(1); a list would shift 20k items per event.
        self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._written = 0  # how many of ``events`` are already in the log

    def _append(self, event: dict[str, Any]) -> None:
        if len(self.events) == MAX_EVENTS:
            self._written = max(0, self._written - 1)  # the oldest one falls off
        self.events.append(event)

    def record(self, event: dict[str, Any]) -> None:
        self._append(event)
        if self.display and self.size.width:
            self._flush()

    def _flush(self) -> None:
        # Indexed from the right end, where a deque is O(1): usually only the newest is unwritten.
        for back in range(len(self.events) - self._written, 0, -1):
            self.write(json_line(self.events[-back]))
        self._written = len(self.events)

    def on_show(self) -> None:
        # After the next refresh the log knows its width, so lines wrap to the visible size.
        self.call_after_refresh(self._flush)

    def note(self, text: str) -> None:
        """A separator between runs."""
        self._append({"difytui": text})
        if self.display:
            self._flush()
