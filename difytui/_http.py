"""Sans-io pieces shared by ``Dify`` and ``AsyncDify``: what to send, and how to read what came back.

Nothing here performs I/O, so the sync and async clients run exactly the same logic.
"""

from __future__ import annotations

import codecs
import json
import os
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from difytui.errors import DifyAPIError, DifyConnectionError, DifyError, DifyProtocolError

#: Reads are retried this many times in all (first try included).
READ_ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A server asking us to wait longer than this is answered with the error instead.
MAX_RETRY_AFTER = 30.0

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


@dataclass
class Call:
    """One HTTP request a flow wants made (for the app whose key authorises it)."""

    method: str
    path: str
    app_id: str | None  # None: a request about no single app (the account API's app list)
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    upload: Path | None = None
    #: Told the bytes of ``upload`` sent so far (see upload_progress).
    progress: Callable[[int, int], None] | None = None
    form: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    #: Safe to repeat (reads): retried on connection errors, 429 and 502/503/504. Calls that are not
    #: go out on a fresh connection: one that is never retried must not meet a stale keep-alive socket.
    idempotent: bool = False
    #: Seconds for each phase of this request, instead of the client's timeouts (stop calls: short).
    timeout: float | None = None
    #: A blocking run (streamed under the hood): a JSON answer instead of the stream is the result,
    #: as a server that answered in blocking mode anyway means it.
    blocking: bool = False


@dataclass
class Sleep:
    """A flow asking its driver to wait (between retries)."""

    seconds: float


@dataclass
class Parallel:
    """A flow asking its driver to run sub-flows, concurrently where it can; the result is one
    outcome per sub-flow, in order: its value, or the DifyError that ended it."""

    flows: list[Flow[Any]]


T = TypeVar("T")
#: What a flow yields: a request to make, a pause, or sub-flows to run.
Step = Call | Sleep | Parallel
#: A sans-io request flow returning a ``T``: it yields ``Step``s and is sent each one's result (a
#: ``Call``'s JSON answer or open stream; a ``Parallel``'s outcomes; None after a ``Sleep``).
Flow = Generator[Step, Any, T]


def excerpt(text: str, limit: int = 160) -> str:
    """A short one-line excerpt of a body that was not Dify's JSON (an HTML error page, say)."""
    import re

    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def api_error(response: httpx.Response, body: bytes, *, hint_401: str = "") -> DifyAPIError:
    """Turn a non-2xx response into a ``DifyAPIError`` (Dify's ``{code, message, status}`` or an excerpt)."""
    status = response.status_code
    url = str(response.request.url) if response.request else ""
    text = body.decode("utf-8", "replace")
    code, message = "", ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        data = None
    if isinstance(data, dict) and ("message" in data or "code" in data):
        code = str(data.get("code") or "")
        message = str(data.get("message") or "")
    if not message:
        message = excerpt(text) or response.reason_phrase or "no details"
    error = DifyAPIError(status, code, message, url=url, hint=hint_401 if status == 401 else "")
    error.retry_after = _retry_after(response.headers.get("retry-after"))
    return error


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


#: How h11 and httpcore word a RemoteProtocolError that is a real early close (a cut), not bad framing.
_EARLY_CLOSE = (
    "peer closed connection without sending complete message body",
    "peer unexpectedly closed connection",
    "Server disconnected without sending a response",
)


def connection_error(exc: Exception, url: str, *, streaming: bool = False) -> DifyError:
    """Name what went wrong and where, in words, from an httpx exception."""
    if isinstance(exc, httpx.DecodingError):
        # The body arrived, but its Content-Encoding (gzip, deflate…) does not decode: not a network cut.
        return DifyProtocolError(f"the response from {url} could not be decompressed: {exc}")
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header, which may be the Authorization header: never show it.
        return DifyConnectionError(f"could not send the request to {url}: a header is malformed", url=url)
    reason = str(exc).strip()
    if isinstance(exc, httpx.RemoteProtocolError) and not reason.startswith(_EARLY_CLOSE):
        # Bytes that are not HTTP (an illegal chunk header, a garbled status line…): the connection
        # was not cut, the server (or a proxy) answered wrongly.
        return DifyProtocolError(f"malformed HTTP response from {url}: {reason or 'unreadable framing'}")
    if isinstance(exc, httpx.ConnectError):
        what = f"cannot connect to {url}"
        reason = _connect_reason(exc) or reason
    elif isinstance(exc, httpx.TimeoutException):
        error = DifyConnectionError(f"timed out waiting for {url}", url=url)
        error.timed_out = True
        return error
    elif streaming:
        what = f"the connection to {url} was cut mid-stream"
    else:
        what = f"the connection to {url} failed"
    return DifyConnectionError(f"{what}: {reason}" if reason else what, url=url)


def _connect_reason(exc: BaseException) -> str | None:
    """The same words for a failed connect from both clients: httpx's sync transport says
    "[Errno 111] Connection refused", its async one "All connection attempts failed"; the socket
    error under either is the one that means something to the user."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the server running on that port?)"
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    return None


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying a read after ``error`` (attempt counts from 1), or None."""
    if attempt >= READ_ATTEMPTS:
        return None
    backoff = 0.25 * 2.0 ** (attempt - 1)
    if isinstance(error, DifyConnectionError):
        # A timeout already cost the whole timeout: repeating it only makes a dead server slower to report.
        return None if error.timed_out else backoff
    if isinstance(error, DifyAPIError) and error.status in RETRY_STATUSES:
        after = error.retry_after
        if after is None:
            return backoff
        return after if after <= MAX_RETRY_AFTER else None
    return None


def status_label(response: httpx.Response) -> str:
    """``"301 Moved Permanently"``, or just the number when the server gave no reason."""
    return f"{response.status_code} {response.reason_phrase}".strip()


def not_final(response: httpx.Response) -> DifyAPIError | None:
    """The error for a status that is neither success nor error (3xx, 1xx), saying where a redirect
    points: difytui never follows one (it would resend the key), so the base_url must be fixed."""
    status = response.status_code
    if 200 <= status < 300 or status >= 400:
        return None
    url = str(response.request.url)
    where = response.headers.get("location")
    label = status_label(response)
    if where:
        message = f"{url} answered {label}, a redirect to {where}"
    else:
        message = f"{url} answered {label}, which is no answer to this request"
    return DifyAPIError(status, "", message, url=url, hint="check base_url" if where else "")


def decode_json(response: httpx.Response, body: bytes) -> dict[str, Any]:
    """A success body: Dify always answers with a JSON object; anything else is a protocol error.

    Valid JSON of another shape is described, not quoted (a body may carry a key); a page that is
    not JSON at all (a proxy's HTML) is quoted briefly, since that is what tells the user what it is.
    A redirect, or a success with an empty body (204, Content-Length: 0), is no answer at all.
    """
    redirect = not_final(response)
    if redirect is not None:
        raise redirect
    status = response.status_code
    if not body:
        if status >= 400:
            return {}
        raise DifyProtocolError(
            f"{response.request.url} answered {status_label(response)} with an empty body, "
            "not the JSON object Dify sends"
        )
    try:
        data = json.loads(body)
    except RecursionError:
        raise DifyProtocolError(
            f"{response.request.url} answered {status} with JSON nested too deeply to read"
        ) from None
    except ValueError:
        raise DifyProtocolError(
            f"{response.request.url} answered {status} with a body that is not JSON: "
            f"{excerpt(body.decode('utf-8', 'replace'))!r}"
        ) from None
    if not isinstance(data, dict):
        raise DifyProtocolError(
            f"{response.request.url} answered {response.status_code} with a JSON {type(data).__name__}, "
            "not the JSON object Dify sends"
        )
    return data


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


def media_type(response: httpx.Response) -> str:
    """The Content-Type without parameters, lower-cased: media types are case-insensitive (RFC 9110)."""
    content_type: str = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower()


def is_event_stream(response: httpx.Response) -> bool:
    return media_type(response) == "text/event-stream"


def is_json(response: httpx.Response) -> bool:
    kind = media_type(response)
    return kind == "application/json" or kind.endswith("+json")


def not_a_stream(response: httpx.Response) -> DifyError:
    redirect = not_final(response)
    if redirect is not None:
        return redirect
    ctype = excerpt(response.headers.get("content-type", ""), 60) or "none"
    return DifyProtocolError(
        f"{response.request.url} answered {status_label(response)} without an event stream "
        f"(content type: {ctype})"
    )


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


def fresh_limits() -> httpx.Limits:
    # Runs, uploads and stops (never retried) each get a new connection. A keep-alive connection the
    # server closed right after its last answer fails the next request on it with "connection reset"
    # (82 in 500 sync runs against a loopback server that closes after each response; 0 in 500 on
    # fresh connections). Retrying instead is unsafe: that failure looks exactly like a server that
    # read the request, started the run and died. Reads keep their pool: they are retried.
    return httpx.Limits(max_keepalive_connections=0)


def pool_limits(fresh: bool) -> httpx.Limits:
    """A pool's limits: ``fresh_limits()``, or httpx's own default (100 connections, 20 kept alive)."""
    return fresh_limits() if fresh else httpx.Limits(max_connections=100, max_keepalive_connections=20)


def is_the_stream(call: Call, response: httpx.Response) -> bool:
    """Whether ``response`` is the event stream ``call`` asked for. False: its body is the answer (an
    error, or a blocking run answered in full); a success that is neither raises (unread: it may be
    endless)."""
    status = response.status_code
    if not call.stream or status >= 400:
        return False
    if 200 <= status < 300 and is_event_stream(response):
        return True
    if call.blocking and 200 <= status < 300 and is_json(response):
        return False  # the server (or a proxy) answered in blocking mode anyway: that is the result
    raise not_a_stream(response)


def answer(response: httpx.Response, body: bytes, auth_hint: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise api_error(response, body, hint_401=auth_hint)
    if response.status_code == 204 and not body and response.request.method == "DELETE":
        return {}  # a deletion's success has no body (DELETE /conversations/:id); nothing else may
    return decode_json(response, body)
