"""The scrolling log pane and the items in it: user turns, streamed answers, notices.

An answer is one ``Markdown`` widget fed through ``Markdown.get_stream()``: the stream batches
fragments when the widget falls behind, and the text itself is kept in a list that only grows,
so each token costs the same however long the answer is. When the stream ends the widget gets
one full ``update()`` so code fences render completely.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from difytui.tui.safe_text import clean, literal


class ResponseLog(VerticalScroll, can_focus=False):
    """Follows new content only while the user is at the bottom (``anchor()``).

    Not in the Tab order (Tab goes from the last form field to the prompt): PageUp/PageDown
    scroll it from anywhere in the pane, and the mouse wheel works as usual.
    """

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, *widgets: Any) -> None:
        await self.mount_all(widgets)


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
    """One streamed answer, ending as one Markdown widget; a status line says how it ended.

    While the answer streams, text goes through ``Markdown.get_stream()`` into a *live* Markdown
    widget. Textual re-measures every block of a Markdown widget whenever it grows, so a long
    answer would make each append slower; instead, once the live widget holds ``SEAL_BLOCKS``
    blocks and the text is at a paragraph break outside a code fence, it is sealed (one full
    update, then never touched: Textual keeps its size cached) and a new live widget continues.
    When the stream ends, the pieces are replaced by a single Markdown widget with one full
    ``update()`` of the whole text, so the message renders exactly as one document.
    """

    #: Tokens reach the Markdown stream at most this often: every append re-lays out the screen,
    #: so 150 tokens/s must not mean 150 layouts/s. The first token is shown at once.
    FLUSH_INTERVAL = 1 / 20
    SEAL_BLOCKS = 16

    def __init__(self, label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._parts: list[str] = []
        self._pending: list[str] = []
        self._last_flush = 0.0
        self._flush_timer: Any = None
        self._stream: MarkdownStream | None = None
        self._live: Markdown | None = None
        self._in_fence = False
        #: the start (at most 3 characters, leading whitespace dropped) of the line still being
        #: received: all _scan needs to know whether it is blank or a fence once it ends
        self._line_head = ""
        self._width = 0
        self._label = label
        self.status_line = Static(Text("…"), classes="answer-status -streaming", markup=False)
        self.status = "streaming"
        self.finished = False  # no more text is taken
        self.rendered = False  # the final full render is on screen

    def compose(self):
        if self._label:
            yield Static(literal(self._label), classes="answer-label", markup=False)
        yield self.status_line

    @property
    def markdown(self) -> Markdown:
        """The answer's Markdown widget (the final one, or the live piece while streaming)."""
        pieces = list(self.query(Markdown))
        return pieces[-1] if pieces else self._live or Markdown()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def show(self, visible: bool = True) -> None:
        self.display = visible

    def _set_status(self, text: str, cls: str) -> None:
        self.status_line.set_classes(f"answer-status {cls}")
        self.status_line.update(Text(text))
        self.status_line.display = bool(text)

    async def write(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment or self.finished:
            return
        self._parts.append(fragment)
        self._pending.append(fragment)
        if self._flush_timer is not None:
            return
        wait = self._last_flush + self.FLUSH_INTERVAL - time.monotonic()
        if wait > 0:
            self._flush_timer = self.set_timer(wait, self._flush)
        else:
            await self._flush()

    async def _flush(self) -> None:
        self._flush_timer = None
        if self.finished or not self._pending:
            return
        self._last_flush = time.monotonic()
        text = "".join(self._pending)
        self._pending.clear()
        self.display = True  # a hidden preview (workflow text_chunk) shows once text arrives
        split = self._scan(text)
        if self._live is not None and split is not None and len(self._live.children) >= self.SEAL_BLOCKS:
            # The text up to the break belongs to the piece being sealed: write it before sealing
            # (stop() flushes it), or it would be missing from the screen until the answer ends.
            assert self._stream is not None
            await self._stream.write(text[:split])
            text = text[split:]
            await self._seal()
        if self._live is None:
            self._live = Markdown(classes="answer-piece")
            await self.mount(self._live, before=self.status_line)
            self._stream = Markdown.get_stream(self._live)
        if text:
            assert self._stream is not None
            await self._stream.write(text)

    def _scan(self, text: str) -> int | None:
        """Follow code fences over the lines that end in ``text``; return the offset in ``text``
        just after its last blank line outside a fence (a safe place to seal), if any.

        Only ``text`` is read, once: a long line without newlines (minified JSON) costs the same
        per flush however long it grows, because only its first characters are kept."""
        split = None
        start = 0
        while (end := text.find("\n", start)) != -1:
            self._extend_line(text[start:end])
            head, self._line_head = self._line_head, ""
            if head.startswith(("```", "~~~")):
                self._in_fence = not self._in_fence
            elif not self._in_fence and not head:
                split = end + 1
            start = end + 1
        self._extend_line(text[start:])
        return split

    def _extend_line(self, piece: str) -> None:
        if len(self._line_head) < 3:
            if not self._line_head:
                piece = piece.lstrip()
            self._line_head = (self._line_head + piece[:3])[:3]

    async def _seal(self) -> None:
        """Stop streaming into the live piece and leave it alone from now on."""
        live, stream = self._live, self._stream
        self._live, self._stream = None, None
        if stream is not None:
            await stream.stop()
        if live is not None:
            # No re-render here: the piece ends outside any code fence, and the whole answer gets
            # one full update when the stream ends (which also covers oterm#308-style fences).
            live.add_class("-sealed")
            # Pin its height: Textual then stops re-measuring the piece's blocks on every append
            # (auto height means arranging all of them again). A resize un-pins it.
            self.call_after_refresh(self._pin, live)

    def _pin(self, piece: Markdown) -> None:
        if piece.is_attached and not self.finished and piece.size.height:
            piece.styles.height = piece.size.height

    def on_resize(self, event: Any) -> None:
        # The answer grows taller all the time; only a new width changes how pieces wrap.
        if event.size.width != self._width:
            self._width = event.size.width
            for piece in self.query(".-sealed"):
                piece.styles.height = "auto"

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._pending.clear()

    async def _render_whole(self) -> None:
        """Replace the pieces by one Markdown widget holding the whole text."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._live = None
        pieces = list(self.query(Markdown))
        final = Markdown(classes="answer-body")
        with self.app.batch_update():
            await self.mount(final, before=self.status_line)
            await final.update(self.text)
            for piece in pieces:
                await piece.remove()

    async def replace(self, text: str) -> None:
        """``message_replace``: the whole answer changes (rare; a full update is fine)."""
        self._cancel_flush()
        self._parts = [clean(text)]
        await self._render_whole()

    async def finish(self, status: str = "done", note: str = "") -> None:
        """Close the stream and render the whole text once; ``status`` marks how it ended."""
        if self.finished:
            return
        self.finished = True
        self.status = status
        self._cancel_flush()  # the full update below renders everything
        await self._render_whole()
        if status == "done":
            self._set_status(note, "-done")
        elif status == "stopped":
            self._set_status("⏹ stopped" + (f" — {note}" if note else ""), "-stopped")
        else:
            self._set_status(f"✗ {status}" + (f" — {note}" if note else ""), "-failed")
        if not self._parts:
            self.markdown.display = False
        self.rendered = True
