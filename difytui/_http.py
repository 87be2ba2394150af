"""Sans-io pieces shared by ``Dify`` and ``AsyncDify``: what to send, and how to read what came back.

Nothing here performs I/O, so the sync and async clients run exactly the same logic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from difytui.errors import DifyAPIError, DifyConnectionError, DifyProtocolError

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


@dataclass
class Call:
    """One HTTP request a flow wants made (for the app whose key authorises it)."""

    method: str
    path: str
    app_id: str | None  # None: a request about no single app (the account API's app list)
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    upload: Path | None = None
    form: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    #: Safe to repeat (reads): retried on connection errors, 429 and 502/503/504.
    idempotent: bool = False


@dataclass
class Sleep:
    """A flow asking its driver to wait (between retries)."""

    seconds: float


@dataclass
class Parallel:
    """A flow asking its driver to run sub-flows, concurrently where it can; the result is one
    outcome per sub-flow, in order: its value, or the DifyError that ended it."""

    flows: list[Any]


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
    except ValueError:
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


def connection_error(exc: Exception, url: str, *, streaming: bool = False) -> DifyConnectionError:
    """Name what went wrong and where, in words, from an httpx exception."""
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header, which may be the Authorization header: never show it.
        return DifyConnectionError(f"could not send the request to {url}: a header is malformed", url=url)
    if isinstance(exc, httpx.ConnectError):
        what = f"cannot connect to {url}"
    elif isinstance(exc, httpx.TimeoutException):
        error = DifyConnectionError(f"timed out waiting for {url}", url=url)
        error.timed_out = True
        return error
    elif streaming:
        what = f"the connection to {url} was cut mid-stream"
    else:
        what = f"the connection to {url} failed"
    reason = str(exc).strip()
    return DifyConnectionError(f"{what}: {reason}" if reason else what, url=url)


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying a read after ``error`` (attempt counts from 1), or None."""
    if attempt >= READ_ATTEMPTS:
        return None
    backoff = 0.25 * 2 ** (attempt - 1)
    if isinstance(error, DifyConnectionError):
        # A timeout already cost the whole timeout: repeating it only makes a dead server slower to report.
        return None if error.timed_out else backoff
    if isinstance(error, DifyAPIError) and error.status in RETRY_STATUSES:
        after = getattr(error, "retry_after", None)
        if after is None:
            return backoff
        return after if after <= MAX_RETRY_AFTER else None
    return None


def decode_json(response: httpx.Response, body: bytes) -> dict[str, Any]:
    """A success body: Dify always answers with a JSON object; anything else is a protocol error.

    Valid JSON of another shape is described, not quoted (a body may carry a key); a page that is
    not JSON at all (a proxy's HTML) is quoted briefly, since that is what tells the user what it is.
    """
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        raise DifyProtocolError(
            f"{response.request.url} answered {response.status_code} with a body that is not JSON: "
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
    except ValueError:
        raise DifyProtocolError(f"malformed event from {url}: {excerpt(data)!r}") from None
    if not isinstance(event, dict):
        raise DifyProtocolError(f"malformed event from {url}: {excerpt(data)!r}")
    return event


def not_a_stream(response: httpx.Response) -> DifyProtocolError:
    ctype = response.headers.get("content-type", "") or "no content type"
    return DifyProtocolError(f"{response.request.url} did not answer with an event stream ({ctype})")


def stream_ended_early(url: str) -> DifyConnectionError:
    return DifyConnectionError(f"the server closed the stream from {url} before the run finished", url=url)
