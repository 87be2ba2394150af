"""The account API's response shapes: its own headers, ErrorBody, 422 details, OAuth errors."""

from __future__ import annotations

from typing import Any

from . import wire

#: The account API's own response headers (no CORS set; framing forbidden).
HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Version": wire.SERVER_VERSION,
    "X-Env": "PRODUCTION",
    "Vary": "Cookie",
}


def json_response(obj: Any, status: int = 200, **headers: str | list[str]) -> wire.Response:
    return wire.Response(status, wire.resource_json(obj), wire.JSON, headers)


def error(status: int, code: str, message: str, **extra: Any) -> wire.Response:
    """ErrorBody ``{code, message, status, details?}``."""
    return json_response({"code": code, "message": message, "status": status, **extra}, status)


def invalid(details: list[tuple[str, list[str], str]]) -> wire.Response:
    """422 for a request that fails validation: details as [{type, loc, msg}]."""
    return error(
        422,
        "invalid_param",
        "Request validation failed",
        details=[{"type": t, "loc": loc, "msg": msg} for t, loc, msg in details],
    )


def oauth_error(code: str, status: int = 400) -> wire.Response:
    return json_response({"error": code}, status)


def finish(resp: wire.Response) -> wire.Response:
    """The account API's framing: a bare body and its own headers instead of the Service API's."""
    resp.bare = True
    resp.headers = {**resp.headers, **HEADERS}
    return resp


class Reject(Exception):
    """Ends a request early with this response."""

    def __init__(self, response: wire.Response) -> None:
        self.response = response
