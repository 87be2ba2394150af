"""Byte-level conventions of Dify 1.14.2's Service API: serialisers, status lines, canned bodies.

Dify uses three JSON serialisers (protocol §1.1) and a client must cope with all of them, so the
simulator reproduces each one exactly instead of picking a single convenient format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")

SERVER_VERSION = "1.14.2"

#: Headers every Dify response carries (Flask-CORS + ext_app_metrics).
BASE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Env, X-Trace-Id, X-Version",
    "X-Version": SERVER_VERSION,
    "X-Env": "PRODUCTION",
    "Vary": "Cookie",
}

# Werkzeug spells reason phrases in upper case ("400 BAD REQUEST").
_REASONS = {
    200: "OK",
    201: "CREATED",
    204: "NO CONTENT",
    400: "BAD REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT FOUND",
    405: "METHOD NOT ALLOWED",
    413: "REQUEST ENTITY TOO LARGE",
    415: "UNSUPPORTED MEDIA TYPE",
    422: "UNPROCESSABLE ENTITY",
    429: "TOO MANY REQUESTS",
    500: "INTERNAL SERVER ERROR",
    502: "BAD GATEWAY",
    503: "SERVICE UNAVAILABLE",
    504: "GATEWAY TIMEOUT",
}


def reason(status: int) -> str:
    return _REASONS.get(status, "UNKNOWN")


def resource_json(obj: Any) -> bytes:
    """flask-restx ``output_json`` with ujson: compact, ASCII-escaped, ``\\/``, trailing newline."""
    return (json.dumps(obj, separators=(",", ":")).replace("/", "\\/") + "\n").encode()


def blocking_json(obj: Any) -> bytes:
    """``compact_generate_response`` for blocking runs: stdlib json.dumps spacing, no newline."""
    return json.dumps(obj).encode()


def sse_frame(event: dict) -> bytes:
    """One orjson-encoded SSE event: compact, raw UTF-8."""
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


PING_FRAME = b"event: ping\n\n"

HTML_404 = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server. If you entered the URL manually please "
    b"check your spelling and try again.</p>\n"
)

JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"
SSE = "text/event-stream; charset=utf-8"
HTML = "text/html; charset=utf-8"


def header_lines(headers: dict[str, str | list[str]]) -> list[str]:
    """``Name: value`` lines; a list value repeats the header (``Set-Cookie``)."""
    lines = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            lines.append(f"{name}: {one}")
    return lines


@dataclass
class Response:
    """A complete (non-streaming) HTTP response."""

    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str | list[str]] = field(default_factory=dict)
    #: leave out Dify's own headers (an error page from a proxy in front of Dify)
    bare: bool = False
    #: a blocking run's answer: the server holds it for the simulator's ``run_latency``
    generated: bool = False


def ok(obj: Any, status: int = 200) -> Response:
    return Response(status, resource_json(obj))


def blocking(obj: Any) -> Response:
    return Response(200, blocking_json(obj), JSON_UTF8, generated=True)


def error(status: int, code: str, message: str, **headers: str | list[str]) -> Response:
    return Response(
        status, resource_json({"code": code, "message": message, "status": status}), JSON, headers
    )


def unauthorized(message: str) -> Response:
    return error(401, "unauthorized", message, **{"WWW-Authenticate": 'Bearer realm="api"'})


def invalid_param(message: str) -> Response:
    return error(400, "invalid_param", message)


def not_found_html() -> Response:
    return Response(404, HTML_404, HTML)


def method_not_allowed() -> Response:
    return error(405, "method_not_allowed", "The method is not allowed for the requested URL.")


def internal_error() -> Response:
    return Response(
        500,
        resource_json({"message": "Internal Server Error", "code": "unknown", "status": 500}),
    )


def flask_errors(answer: Callable[[], _T]) -> _T | Response:
    """Run a handler the way Flask + Dify answer its exceptions: a ValueError is a 400
    ``invalid_param`` with its text, anything else a 500 (a simulator bug must still answer)."""
    try:
        return answer()
    except ValueError as exc:
        return invalid_param(str(exc))
    except Exception:
        return internal_error()


# flask-restx appends route suggestions (difflib over all rules) to every 404 message; these are
# the suggestions Dify 1.14.2 produces for the URIs where the simulator raises a 404.
_DID_YOU_MEAN = {
    "/v1/chat-messages": "/v1/chat-messages or /v1/chat-messages/<string:task_id>/stop",
    "/v1/messages": "/v1/messages or /v1/chat-messages or /api/messages",
    "/v1/conversations": "/v1/conversations or /api/conversations or /v1/conversations/<uuid:c_id>",
}


def not_found(message: str, path: str) -> Response:
    """A Dify 404 with the flask-restx "did you mean" suffix (clients match on the prefix)."""
    base = message.rstrip(".")
    hint = _DID_YOU_MEAN.get(path)
    if hint is None:
        return error(404, "not_found", message)
    return error(404, "not_found", f"{base}. You have requested this URI [{path}] but did you mean {hint} ?")


def bounded_int(raw: str | None, default: int, lo: int, hi: int, name: str = "") -> int:
    """A query parameter as Dify's models read it: blank → default; bad or out of range → ValueError."""
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer" if name else f"Invalid integer value: {raw}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name or 'limit'} must be between {lo} and {hi}")
    return value


def match_route(
    routes: list[tuple[re.Pattern[str], dict[str, Any]]],
    req: Any,
    *,
    not_allowed: Any = None,
    answer_options: bool = True,
) -> tuple[Any, Any, dict[str, str]] | Response:
    """Flask-style routing shared by the three APIs: ``(handler, route data, path params)`` for the
    first matching route; else the answer itself: for OPTIONS, a method the path does not take
    (405), or an unknown path (Flask's HTML 404)."""
    for pattern, methods in routes:
        found = pattern.match(req.path)
        if found is None:
            continue
        if answer_options and req.method == "OPTIONS":
            return Response(200, b"", None, {"Allow": ", ".join([*methods, "OPTIONS"])})
        method = "GET" if req.method == "HEAD" else req.method  # Flask adds HEAD to GET routes
        if method not in methods:
            return (not_allowed or method_not_allowed)()
        name, data = methods[method]
        return name, data, found.groupdict()
    return not_found_html()
