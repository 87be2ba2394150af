"""The event stream's sans-io reading: SSE body chunks → each event's ``data`` (per the SSE
standard), ``data`` → the event dict, and what an event means to the stream (the mode's last
event, the task id a stop call needs).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from difytui._responses import excerpt
from difytui.errors import DifyConnectionError, DifyProtocolError

#: Events after which Dify has nothing more to say, per app mode. The chatflow
#: (advanced-chat) sends ``message_end`` *before* ``workflow_finished``, so it must not stop there.
_WORKFLOW_TERMINALS = frozenset({"workflow_finished", "workflow_paused", "error"})
_MESSAGE_TERMINALS = frozenset({"message_end", "error"})


def terminal_events(mode: str) -> frozenset[str]:
    if mode in ("workflow", "advanced-chat"):
        return _WORKFLOW_TERMINALS
    return _MESSAGE_TERMINALS


def is_terminal(event: dict[str, Any], terminals: frozenset[str]) -> bool:
    """Whether ``event`` ends the stream; any JSON value is safe as its ``event`` (a list is not hashable)."""
    kind = event.get("event")
    return isinstance(kind, str) and kind in terminals


def task_id_of(event: dict[str, Any]) -> str | None:
    """The event's ``task_id`` when it is one (a non-empty string): what a stop call needs."""
    task_id = event.get("task_id")
    return task_id if isinstance(task_id, str) and task_id else None


def decode_event(data: str, url: str) -> dict[str, Any]:
    """One SSE ``data`` payload → the event dict, exactly as Dify sent it."""
    try:
        event = json.loads(data)
    except RecursionError:
        raise DifyProtocolError(f"malformed event from {url}: JSON nested too deeply to read") from None
    except ValueError:
        raise DifyProtocolError(f"malformed event from {url}: {excerpt(data)!r}") from None
    if not isinstance(event, dict):
        raise DifyProtocolError(f"malformed event from {url}: {excerpt(data)!r}")
    return event


class SSEParser:
    """Server-sent events from raw body chunks → the ``data`` of each event, per the SSE standard.

    The stream is UTF-8 whatever the charset label says (SSE allows nothing else), a leading BOM is
    dropped, lines end in CRLF, LF or CR, and a block without ``data`` (``retry:``, ``id:``, a
    keep-alive, an extra blank line) dispatches nothing. Pings (``event: ping``) are left out.
    A block not ended by a blank line when the body ends is incomplete and is not dispatched.
    """

    def __init__(self) -> None:
        # utf-8-sig drops one leading BOM, even split across chunks; invalid bytes become U+FFFD as
        # the standard's decoder does.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
        self._parts: list[str] = []
        self._ends_in_lf = False
        self._held_cr = False

    def feed(self, chunk: bytes | None) -> list[str]:
        """The events completed by ``chunk``; None marks the end of the body."""
        if chunk is None:
            return self._finish()
        text = self._decoder.decode(chunk)
        if self._held_cr:
            text = "\r" + text
            self._held_cr = False
        if "\r" in text:
            if text.endswith("\r"):  # maybe the first half of a CRLF: decide with the next chunk
                text, self._held_cr = text[:-1], True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._blocks(text)

    def _finish(self) -> list[str]:
        """At the end of the body: a CR held back (it might have been half a CRLF) ends its line."""
        if not self._held_cr:
            return []
        self._held_cr = False
        return self._blocks("\n")

    def _blocks(self, text: str) -> list[str]:
        if not text:
            return []
        if "\n\n" not in text and not (self._ends_in_lf and text[0] == "\n"):
            self._parts.append(text)
            self._ends_in_lf = text[-1] == "\n"
            return []
        if self._parts:
            self._parts.append(text)
            text = "".join(self._parts)
        blocks = text.split("\n\n")
        rest = blocks.pop()
        self._parts = [rest] if rest else []
        self._ends_in_lf = rest.endswith("\n")
        found = []
        for block in blocks:
            data = _block_data(block)
            if data is not None:
                found.append(data)
        return found


def _block_data(block: str) -> str | None:
    """The ``data`` of one event block (lines without blank ones), or None if it dispatches nothing."""
    if block.startswith("data:") and "\n" not in block:  # the common case: one data line
        return block[6:] if block[5:6] == " " else block[5:]
    data: list[str] = []
    kind = ""
    for line in block.split("\n"):
        if not line or line[0] == ":":
            continue
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
    if not data or kind == "ping":
        return None
    return "\n".join(data)


def stream_ended_early(url: str) -> DifyConnectionError:
    return DifyConnectionError(f"the server closed the stream from {url} before the run finished", url=url)
