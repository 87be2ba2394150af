"""The scrolling log pane and the items in it: user turns, streamed answers, notices.

An answer is one ``Markdown`` widget fed through ``Markdown.get_stream()``: the stream batches
fragments when the widget falls behind, and the text itself is kept in a list that only grows,
so each token costs the same however long the answer is. When the stream ends the widget gets
one full ``update()`` so code fences render completely.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from difytui.tui.safe_text import clean, literal


class ResponseLog(VerticalScroll):
    """Follows new content only while the user is at the bottom (``anchor()``)."""

    can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, *widgets: Any) -> None:
        await self.mount_all(widgets)

    def clear_items(self) -> None:
        self.remove_children()


class UserTurn(Static):
    """What the user sent (shown literally)."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(literal(text), markup=False, **kwargs)
        self.text = text


class Notice(Static):
    """A one-off line in the log: errors, warnings, info. Variant via CSS class (-error/-warning/-info)."""

    def __init__(self, text: str, variant: str = "info", **kwargs: Any) -> None:
        super().__init__(literal(text), markup=False, **kwargs)
        self.add_class(f"-{variant}")
        self.text = text


class AnswerView(Vertical):
    """One streamed answer: Markdown body plus a status line (streaming/stopped/failed)."""

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._parts: list[str] = []
        self._stream: MarkdownStream | None = None
        self._label = label
        self.status = "streaming"
        self.finished = False

    def compose(self):
        if self._label:
            yield Static(literal(self._label), classes="answer-label", markup=False)
        yield Markdown("", classes="answer-body")
        yield Static("", classes="answer-status", markup=False)

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def on_mount(self) -> None:
        self._set_status("…", "-streaming")

    def _set_status(self, text: str, cls: str) -> None:
        status = self.query_one(".answer-status", Static)
        status.set_classes(f"answer-status {cls}")
        status.update(Text(text))

    async def write(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment or self.finished:
            return
        self._parts.append(fragment)
        if self._stream is None:
            self.display = True  # a hidden preview (workflow text_chunk) shows once text arrives
            self._stream = Markdown.get_stream(self.markdown)
        await self._stream.write(fragment)

    async def replace(self, text: str) -> None:
        """``message_replace``: the whole answer changes (rare; a full update is fine)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._parts = [clean(text)]
        await self.markdown.update(self._parts[0])

    async def finish(self, status: str = "done", note: str = "") -> None:
        """Close the stream and render the whole text once; ``status`` marks how it ended."""
        if self.finished:
            return
        self.finished = True
        self.status = status
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.markdown.update(self.text)
        if status == "done":
            self._set_status(note, "-done")
            if not note:
                self.query_one(".answer-status").display = False
        elif status == "stopped":
            self._set_status("⏹ stopped" + (f" — {note}" if note else ""), "-stopped")
        else:
            self._set_status(f"✗ {status}" + (f" — {note}" if note else ""), "-failed")
        if not self._parts:
            self.markdown.display = False
