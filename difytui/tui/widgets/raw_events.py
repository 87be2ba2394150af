"""Every raw event of the pane's runs, as one JSON line each, in order (toggled with ctrl+t).

Lines wrap at the pane's real width (and again when it changes), the log takes focus and scrolls,
and ``/`` or ctrl+f searches the events for a name or a value. Events are server text: they are
shown through :func:`~difytui.tui.safe_text.json_line`, never as markup.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from rich.style import Style
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import Input, RichLog

from difytui.tui.safe_text import json_line

MAX_EVENTS = 20_000

_MATCH = Style(reverse=True)


class RawLog(RichLog):
    """The lines; the lines of the event found by a search are shown reversed."""

    def __init__(self, **kwargs: Any) -> None:
        # min_width=1: RichLog's default (78) would wrap lines wider than a narrow pane, whose
        # right edge then cuts the middle of every event off.
        super().__init__(wrap=True, markup=False, highlight=False, min_width=1, **kwargs)
        self.marked: range = range(0)  # absolute line numbers (lines dropped so far included)

    @property
    def first_line(self) -> int:
        """The absolute number of ``lines[0]`` (lines of dropped events are gone from the front)."""
        return self._start_line

    def drop_front(self, count: int) -> None:
        """Forget the oldest ``count`` lines (those of an event that fell off the buffer)."""
        del self.lines[:count]
        self._start_line += count  # keeps RichLog's line cache keys valid
        self.virtual_size = Size(self.virtual_size.width, len(self.lines))
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        if isinstance(self.parent, RawEvents):
            self.parent.log_resized()  # wrap again at the new width

    def mark(self, lines: range) -> None:
        self.marked = lines
        self._line_cache.clear()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.scroll_offset.y + y + self._start_line in self.marked:
            strip = strip.apply_style(_MATCH)
        return strip


class RawEvents(Vertical):
    """Keeps the events while hidden and writes them when shown, so hiding costs nothing per token."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "search", "Search events", id="raw.search"),
        Binding("slash", "search", "Search events", show=False),
        Binding("escape", "close_search", "Close search", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A deque drops the oldest event in O(1); a list would shift 20k items per event.
        self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._written = 0  # how many of ``events`` are already in the log
        self._spans: deque[int] = deque()  # lines taken by each written event, oldest first
        self._width = 0  # the width the written lines were wrapped at
        self._found: int | None = None  # index (in ``events``) of the event the search is on

    def on_mount(self) -> None:
        self.border_title = "raw events · ctrl+f search"

    def compose(self) -> ComposeResult:
        yield RawLog(id="raw-log")
        search = Input(placeholder="search events: a name or a value", id="raw-search", compact=True)
        search.display = False
        yield search

    @property
    def log_view(self) -> RawLog:
        return self.query_one(RawLog)

    @property
    def lines(self) -> list[Strip]:
        return self.log_view.lines

    # -- recording ----------------------------------------------------------------------------

    def _append(self, event: dict[str, Any]) -> None:
        if len(self.events) == MAX_EVENTS:  # the oldest one falls off
            if self._written:
                self._written -= 1
                self.log_view.drop_front(self._spans.popleft())
            if self._found is not None:
                self._found = self._found - 1 if self._found else None
        self.events.append(event)

    def record(self, event: dict[str, Any]) -> None:
        self._append(event)
        self._flush()

    def note(self, text: str) -> None:
        """A separator between runs."""
        self.record({"difytui": text})

    def _wrap_width(self) -> int:
        return self.log_view.scrollable_content_region.width if self.display else 0

    def _flush(self) -> None:
        width = self._wrap_width()
        if width <= 0:
            return
        if width != self._width:
            self._rewrap(width)
            return
        log = self.log_view
        # Indexed from the right end, where a deque is O(1): usually only the newest is unwritten.
        for back in range(len(self.events) - self._written, 0, -1):
            before = len(log.lines)
            log.write(json_line(self.events[-back]), width=width)
            self._spans.append(len(log.lines) - before)
        self._written = len(self.events)

    def _rewrap(self, width: int) -> None:
        log = self.log_view
        log.clear()
        self._spans.clear()
        self._written = 0
        self._width = width
        self._flush()
        if self._found is not None:
            self._show_found(scroll=False)

    def on_show(self) -> None:
        # After the next refresh the log knows its width, so lines wrap to the visible size.
        self.call_after_refresh(self._flush)

    def log_resized(self) -> None:
        if self._wrap_width() != self._width:  # the first size too: events may be waiting
            self.call_after_refresh(self._flush)

    # -- search ---------------------------------------------------------------------------------

    def action_search(self) -> None:
        search = self.query_one("#raw-search", Input)
        search.display = True
        search.focus()

    def action_close_search(self) -> None:
        search = self.query_one("#raw-search", Input)
        if not search.display:
            raise SkipAction()  # Escape goes on to the pane (stop a run, or back)
        search.display = False
        self._found = None
        self.border_subtitle = ""
        log = self.log_view
        log.mark(range(0))
        log.auto_scroll = True
        log.focus()

    @on(Input.Changed, "#raw-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.find(event.value, start=self._found or 0)

    @on(Input.Submitted, "#raw-search")
    def _search_next(self, event: Input.Submitted) -> None:
        event.stop()
        start = 0 if self._found is None else self._found + 1
        self.find(event.value, start=start)

    def find(self, term: str, start: int = 0) -> int | None:
        """Show the first event at or after ``start`` (wrapping around) whose JSON contains
        ``term`` (any case); returns its index in :attr:`events`."""
        needle = term.strip().lower()
        if not needle:
            self._found = None
            self.log_view.mark(range(0))
            self.border_subtitle = ""
            return None
        hits = [i for i, event in enumerate(self.events) if needle in _plain(event)]
        if not hits:
            self._found = None
            self.log_view.mark(range(0))
            self.border_subtitle = "no match"
            return None
        found = next((i for i in hits if i >= start), hits[0])
        self._found = found
        self.border_subtitle = f"{hits.index(found) + 1} of {len(hits)} · enter: next · esc: close"
        self._show_found(scroll=True)
        return found

    def _show_found(self, scroll: bool) -> None:
        found = self._found
        if found is None or found >= self._written:
            return
        log = self.log_view
        top = log.first_line + sum(self._spans[i] for i in range(found))
        lines = range(top, top + self._spans[found])
        log.mark(lines)
        if scroll:
            log.auto_scroll = False  # stay on the match while events keep arriving
            log.scroll_to(y=top - log.first_line, animate=False, immediate=True)


def _plain(event: dict[str, Any]) -> str:
    """What a search looks in: the event's line as shown, lower-cased."""
    return json_line(event).plain.lower()
