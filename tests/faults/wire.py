"""The bytes the fault server plays (real Dify captures) and an independent reading of them.

``expected(body)`` reads an event-stream body the way the SSE standard does (leading BOM stripped,
``\\r\\n``/``\\r``/``\\n`` line ends, a block dispatched only at its blank line, blocks without
``data`` ignored) and says which events fully arrived: that is what the client must deliver.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Copies of real Dify 1.14.2 exchanges (captured with ``curl -i -N``; the body is as received).
CAPTURES = Path(__file__).parent / "captures"

WORKFLOW_TERMINALS = frozenset({"workflow_finished", "workflow_paused", "error"})
CHAT_TERMINALS = frozenset({"message_end", "error"})


def _capture(name: str) -> tuple[str, dict[str, str], bytes]:
    """(status, headers, body) of a capture."""
    raw = (CAPTURES / name).read_bytes()
    lines = raw.split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(b"HTTP/1.1 "))
    status = lines[start].decode().strip().removeprefix("HTTP/1.1 ")
    headers: dict[str, str] = {}
    i = start + 1
    while lines[i].strip():
        name, _, value = lines[i].decode().partition(":")
        headers[name.strip()] = value.strip()
        i += 1
    body = b"\n".join(lines[i + 1 :])
    if "### curl:" in body.decode("utf-8", "replace"):
        body = body[: body.index(b"\n### curl:")]
        body = body.rstrip(b"\n") + b"\n\n"
    return status, headers, body


def _sse_head(content_type: str = "text/event-stream; charset=utf-8") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nX-Version: 1.14.2\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


@dataclass(frozen=True)
class Stream:
    """A captured event stream: the response head (no length: the close ends it) and the body."""

    name: str
    app: str  # the app id in the fault workspace
    mode: str
    head: bytes
    body: bytes

    @property
    def wire(self) -> bytes:
        return self.head + self.body

    @property
    def terminals(self) -> frozenset[str]:
        return terminals(self.mode)


def terminals(mode: str) -> frozenset[str]:
    return WORKFLOW_TERMINALS if mode in ("workflow", "advanced-chat") else CHAT_TERMINALS


def _stream(name: str, app: str, mode: str) -> Stream:
    _status, headers, body = _capture(name)
    return Stream(name, app, mode, _sse_head(headers["Content-Type"]), body)


WORKFLOW = _stream("wf_slow_streaming_stopped.http", "wf", "workflow")
CHATFLOW = _stream("chat_streaming_turn2.http", "chat", "advanced-chat")
STREAMS = (WORKFLOW, CHATFLOW)

_status, _headers, CHAT_BLOCKING_BODY = _capture("chat_blocking_turn2.http")
CHAT_BLOCKING_BODY = CHAT_BLOCKING_BODY.rstrip(b"\n")


# -- the reference reading ---------------------------------------------------------------------

UNDECODABLE = object()


@dataclass(frozen=True)
class Reading:
    """What fully arrived: ``events`` (decoded, pings left out) up to the first block that is not a
    JSON object (``bad``: there was one); ``terminal``: the events include the run's last one."""

    events: list[dict[str, Any]]
    bad: bool
    terminal: bool


def sse_blocks(text: str) -> list[tuple[str, str]]:
    """(event type, data) of every dispatched block, per the SSE standard's interpretation."""
    text = text.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines.pop()  # the part after the last line end never completed
    blocks: list[tuple[str, str]] = []
    event, data = "", list[str]()
    for line in lines:
        if not line:
            if data:
                blocks.append((event or "message", "\n".join(data)))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return blocks


def decode(data: str) -> Any:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return UNDECODABLE
    return value if isinstance(value, dict) else UNDECODABLE


def json_body(body: bytes) -> dict[str, Any] | None:
    """A blocking answer's object, if ``body`` is one (JSON is UTF-8: invalid bytes make it no JSON)."""
    try:
        value = decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return value if isinstance(value, dict) and value else None


def expected(body: bytes, mode: str) -> Reading:
    ends = terminals(mode)
    events: list[dict[str, Any]] = []
    for event_type, data in sse_blocks(body.decode("utf-8", "replace")):
        if event_type == "ping":
            continue
        value = decode(data)
        if value is UNDECODABLE:
            return Reading(events, True, False)
        events.append(value)
        if _event_name(value) in ends:
            return Reading(events, False, True)
    return Reading(events, False, False)


def _event_name(event: dict[str, Any]) -> object:
    name = event.get("event")
    return name if isinstance(name, str) else None


def canon(value: Any) -> str:
    """A comparable form of an event (NaN equals NaN; lone surrogates survive)."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


def strict_json(line: str) -> Any:
    """``json.loads`` that refuses NaN and ±Infinity, as a strict JSON reader does."""

    def reject(name: str) -> Any:
        raise ValueError(f"not strict JSON: {name}")

    value = json.loads(line, parse_constant=reject)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not strict JSON: non-finite number")
    return value


# -- small hand-made streams ---------------------------------------------------------------------

S = {"event": "workflow_started", "task_id": "t-1", "workflow_run_id": "r-1", "data": {"id": "r-1"}}
T = {"event": "text_chunk", "task_id": "t-1", "data": {"text": "café ☕ – naïve Ω 日本"}}
F = {
    "event": "workflow_finished",
    "task_id": "t-1",
    "workflow_run_id": "r-1",
    "data": {"id": "r-1", "status": "succeeded", "outputs": {"answer": "café ☕"}},
}


def block(event: dict[str, Any] | str) -> bytes:
    """One SSE block as Dify frames it (``data: <json>`` and a blank line)."""
    data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return f"data: {data}\n\n".encode("utf-8", "surrogatepass")


def head(content_type: str = "text/event-stream; charset=utf-8", *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {content_type}", "Connection: close", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
