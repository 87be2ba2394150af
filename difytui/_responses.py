"""What came back, read without I/O: a response (status, headers, body) → the JSON answer or
the DifyError it means, and an httpx exception → a DifyError in words.
"""

from __future__ import annotations

import json
import os
import socket
from typing import TYPE_CHECKING, Any

import httpx

from difytui.errors import DifyAPIError, DifyConnectionError, DifyError, DifyProtocolError

if TYPE_CHECKING:
    from difytui._http import Call


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
