"""Odd HTTP: statuses with no answer (empty 200, 204, 3xx), error bodies, content types, encodings
and chunked framing, for blocking and streamed runs. No empty answer may pass as success; errors
are DifyErrors that name what happened."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable

import pytest

from difytui.errors import DifyAPIError

from .harness import Outcome, Runner, judge_blocking, judge_error, judge_stream
from .server import response
from .wire import CHAT_BLOCKING_BODY, F, S, T, block, canon, expected, head

SSE = block(S) + block(T) + block(F)
ANSWER = json.loads(CHAT_BLOCKING_BODY)
DEEP = "[" * 1000 + "]" * 1000
LOCATION = "https://moved.example.test/v1/elsewhere"
Judge = Callable[[Outcome], list[str]]


def _chunked(
    body: bytes, size: int, *, ext: str = "", upper: bool = False, end: bytes = b"0\r\n\r\n"
) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        length = f"{len(piece):X}" if upper else f"{len(piece):x}"
        out += f"{length}{ext}\r\n".encode() + piece + b"\r\n"
    return out + end


def _raw(status: str, *headers: str, body: bytes = b"") -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode("latin-1") + body


# -- judges --------------------------------------------------------------------------------------


def error(outcome: Outcome) -> list[str]:
    return judge_error(outcome, events=[]) if not outcome.events else judge_error(outcome)


def names(*words: str) -> Judge:
    """An error whose message mentions each of ``words`` (a redirect says where to)."""

    def judge(outcome: Outcome) -> list[str]:
        problems = error(outcome)
        if outcome.error is not None:
            problems += [
                f"the error does not mention {w!r}: {outcome.error}"
                for w in words
                if w not in str(outcome.error)
            ]
        return problems

    return judge


def not_a_cut(outcome: Outcome) -> list[str]:
    """A decoding or content-type failure is named as such, not as a cut connection."""
    problems = judge_error(outcome)
    if outcome.error is not None and "cut mid-stream" in str(outcome.error):
        problems.append(f"reported as a cut connection: {outcome.error}")
    return problems


def malformed(then: Judge) -> Judge:
    """``then``, and the error names bad HTTP framing, not a cut connection (httpx raises the same
    RemoteProtocolError for both)."""

    def judge(outcome: Outcome) -> list[str]:
        problems = then(outcome) + not_a_cut(outcome)
        if outcome.error is not None and "malformed HTTP response" not in str(outcome.error):
            problems.append(f"not named a malformed HTTP response: {outcome.error}")
        return problems

    return judge


def cut(then: Judge) -> Judge:
    """``then``, and the error says the connection was cut (the server closed it early)."""

    def judge(outcome: Outcome) -> list[str]:
        problems = then(outcome) + judge_error(outcome)
        if outcome.error is not None and "cut mid-stream" not in str(outcome.error):
            problems.append(f"not named a cut: {outcome.error}")
        return problems

    return judge


def api(status: int) -> Judge:
    def judge(outcome: Outcome) -> list[str]:
        problems = error(outcome)
        if outcome.error is not None and not (
            isinstance(outcome.error, DifyAPIError) and outcome.error.status == status
        ):
            problems.append(f"expected DifyAPIError {status}, got {outcome.error!r:.160}")
        return problems

    return judge


def whole(outcome: Outcome) -> list[str]:
    """Blocking: the answer, exactly."""
    return judge_blocking(outcome, ANSWER)


def maybe(outcome: Outcome) -> list[str]:
    """Blocking, where refusing is as right as accepting: no crash, and an accepted answer is exact."""
    if outcome.error is not None:
        return []
    return judge_blocking(outcome, ANSWER)


def events(body: bytes) -> Judge:
    """Streamed: the events of ``body`` that fully arrived (wire.expected)."""
    return lambda outcome: judge_stream(outcome, expected(body, "workflow"), "workflow")


def some_events(outcome: Outcome) -> list[str]:
    """Streamed, where how much arrives depends on a decoder's buffering: no crash, what is
    delivered is the start of the run, and a clean end only with the run's last event."""
    if outcome.crash:
        return [f"crash (not a DifyError): {outcome.crash}"]
    full = [canon(e) for e in expected(SSE, "workflow").events]
    got = [canon(e) for e in outcome.events]
    problems = [] if got == full[: len(got)] else ["delivered events that differ from the ones sent"]
    if outcome.error is None and got != full:
        problems.append("ended cleanly without the run's last event")
    return problems


# -- blocking cases ------------------------------------------------------------------------------

GZ = gzip.compress(CHAT_BLOCKING_BODY)
BLOCKING: dict[str, tuple[bytes, Judge]] = {
    "empty-200-length-0": (response(b""), error),
    "empty-200-close-delimited": (response(b"", length=False), error),
    "204": (_raw("204 No Content"), error),
    "204-with-type": (_raw("204 No Content", "Content-Type: application/json"), error),
    "301-location": (
        _raw("301 Moved Permanently", f"Location: {LOCATION}", "Content-Length: 0"),
        names(LOCATION),
    ),
    "302-location": (_raw("302 Found", f"Location: {LOCATION}", "Content-Length: 0"), names(LOCATION)),
    "307-location": (
        _raw("307 Temporary Redirect", f"Location: {LOCATION}", "Content-Length: 0"),
        names(LOCATION),
    ),
    "308-location-with-json": (
        _raw(
            "308 Permanent Redirect",
            f"Location: {LOCATION}",
            "Content-Type: application/json",
            "Content-Length: 2",
            body=b"{}",
        ),
        names(LOCATION),
    ),
    "301-no-location": (_raw("301 Moved Permanently", "Content-Length: 0"), error),
    "304": (_raw("304 Not Modified"), error),
    "300-with-answer": (response(CHAT_BLOCKING_BODY, "300 Multiple Choices"), error),
    "500-deep-json": (response(DEEP, "500 INTERNAL SERVER ERROR"), api(500)),
    "500-deep-object": (response('{"a":' * 1000 + "1" + "}" * 1000, "500 INTERNAL SERVER ERROR"), api(500)),
    "500-deep-message": (
        response('{"code":"x","message":' + DEEP + "}", "500 INTERNAL SERVER ERROR"),
        api(500),
    ),
    "502-html": (
        response(
            "<html><body><h1>502 Bad Gateway</h1></body></html>", "502 Bad Gateway", content_type="text/html"
        ),
        api(502),
    ),
    "503-empty": (response(b"", "503 Service Unavailable"), api(503)),
    "400-not-utf8": (response(b'{"code":"\xff","message":"\xfe"}', "400 BAD REQUEST"), api(400)),
    "200-deep-json": (response(DEEP), error),
    "200-deep-object": (response('{"a":' * 1000 + "1" + "}" * 1000), error),
    "200-json-array": (response("[1, 2]"), error),
    "200-json-null": (response("null"), error),
    "200-empty-object": (response("{}"), error),
    "200-html": (response("<html>hello</html>", content_type="text/html"), error),
    "200-nan": (
        response('{"answer": NaN, "event": "message"}'),
        lambda o: [] if o.error else judge_blocking(o, o.result),
    ),
    "200-text-plain-json": (response(CHAT_BLOCKING_BODY, content_type="text/plain"), maybe),
    "200-json-charset-utf-16": (
        response(CHAT_BLOCKING_BODY, content_type="application/json; charset=utf-16"),
        maybe,
    ),
    "200-json-charset-rot13": (
        response(CHAT_BLOCKING_BODY, content_type="application/json; charset=rot13"),
        maybe,
    ),
    "200-event-stream-for-blocking": (head() + block(ANSWER), maybe),
    "gzip": (response(GZ, extra=("Content-Encoding: gzip",)), whole),
    "gzip-garbage": (response(b"not gzip at all", extra=("Content-Encoding: gzip",)), not_a_cut),
    "gzip-truncated": (response(GZ[: len(GZ) // 2], extra=("Content-Encoding: gzip",)), error),
    "deflate-garbage": (response(b"\x00\x01garbage", extra=("Content-Encoding: deflate",)), not_a_cut),
    "deflate": (response(zlib.compress(CHAT_BLOCKING_BODY), extra=("Content-Encoding: deflate",)), whole),
    "br-unsupported": (response(b"\x8b\x02\x80garbage", extra=("Content-Encoding: br",)), error),
    "unknown-encoding": (response(CHAT_BLOCKING_BODY, extra=("Content-Encoding: x-nonsense",)), maybe),
    "length-too-long": (response(CHAT_BLOCKING_BODY)[:-10], error),
    "length-too-short": (
        response(CHAT_BLOCKING_BODY).replace(
            f"Content-Length: {len(CHAT_BLOCKING_BODY)}".encode(), b"Content-Length: 100"
        ),
        error,
    ),
    "length-twice-different": (response(CHAT_BLOCKING_BODY, extra=("Content-Length: 3",)), error),
    "length-not-a-number": (
        response(CHAT_BLOCKING_BODY).replace(
            f"Content-Length: {len(CHAT_BLOCKING_BODY)}".encode(), b"Content-Length: ten"
        ),
        error,
    ),
    "chunked-1-byte": (
        response(_chunked(CHAT_BLOCKING_BODY, 1), length=False, extra=("Transfer-Encoding: chunked",)),
        whole,
    ),
    "chunked-extensions-upper-hex": (
        response(
            _chunked(CHAT_BLOCKING_BODY, 255, ext=";foo=bar", upper=True),
            length=False,
            extra=("Transfer-Encoding: chunked",),
        ),
        whole,
    ),
    "chunked-trailer": (
        response(
            _chunked(CHAT_BLOCKING_BODY, 100, end=b"0\r\nX-Trailer: 1\r\n\r\n"),
            length=False,
            extra=("Transfer-Encoding: chunked",),
        ),
        whole,
    ),
    "chunked-bad-size": (
        response(b"zz\r\nabc\r\n0\r\n\r\n", length=False, extra=("Transfer-Encoding: chunked",)),
        malformed(error),
    ),
    "chunked-no-last-chunk": (
        response(
            _chunked(CHAT_BLOCKING_BODY, 100, end=b""), length=False, extra=("Transfer-Encoding: chunked",)
        ),
        maybe,
    ),
    "chunked-and-length": (
        response(_chunked(CHAT_BLOCKING_BODY, 100), extra=("Transfer-Encoding: chunked",)),
        maybe,
    ),
    "chunked-empty": (response(b"0\r\n\r\n", length=False, extra=("Transfer-Encoding: chunked",)), error),
    "http-1.0-close-delimited": (
        response(CHAT_BLOCKING_BODY, length=False).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
        whole,
    ),
    "status-line-garbage": (b"HTTP/1.1 abc\r\n\r\n" + CHAT_BLOCKING_BODY, error),
    "status-999": (response(CHAT_BLOCKING_BODY, "999 Whatever"), error),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n", error),
    "nothing": (b"", error),
    "header-without-colon": (response(CHAT_BLOCKING_BODY, extra=("this is not a header",)), maybe),
    "huge-header": (response(CHAT_BLOCKING_BODY, extra=("X-Big: " + "a" * 200_000,)), maybe),
    "100-continue-first": (b"HTTP/1.1 100 Continue\r\n\r\n" + response(CHAT_BLOCKING_BODY), maybe),
}


# -- streamed cases ------------------------------------------------------------------------------

SSE_GZ = gzip.compress(SSE)
STREAMED: dict[str, tuple[bytes, Judge]] = {
    "empty-200": (head(), error),
    "empty-200-length-0": (head("text/event-stream", "Content-Length: 0"), error),
    "204": (_raw("204 No Content"), error),
    "301-location": (
        _raw("301 Moved Permanently", f"Location: {LOCATION}", "Content-Length: 0"),
        names(LOCATION),
    ),
    "304": (_raw("304 Not Modified"), error),
    "500-deep-json": (response(DEEP, "500 INTERNAL SERVER ERROR"), api(500)),
    "500-deep-json-as-stream": (
        _raw(
            "500 INTERNAL SERVER ERROR",
            "Content-Type: text/event-stream",
            "Connection: close",
            body=block(DEEP),
        ),
        api(500),
    ),
    "200-json-not-a-stream": (response(CHAT_BLOCKING_BODY), error),
    "200-no-content-type": (response(SSE, content_type=None), error),
    "200-html": (response("<html>proxy says hi</html>", content_type="text/html"), error),
    "content-type-mismatch": (head("application/json; profile=text/event-stream") + SSE, not_a_cut),
    "content-type-twice": (head("text/event-stream", "Content-Type: application/json") + SSE, some_events),
    "gzip": (head("text/event-stream", "Content-Encoding: gzip") + SSE_GZ, events(SSE)),
    "gzip-garbage": (head("text/event-stream", "Content-Encoding: gzip") + b"not gzip" * 10, not_a_cut),
    "gzip-garbage-after-events": (
        head("text/event-stream", "Content-Encoding: gzip") + SSE_GZ[:-30] + b"\xff" * 40,
        some_events,
    ),
    "gzip-truncated": (
        head("text/event-stream", "Content-Encoding: gzip") + SSE_GZ[: len(SSE_GZ) // 2],
        some_events,
    ),
    "deflate-garbage": (head("text/event-stream", "Content-Encoding: deflate") + b"\x00garbage", not_a_cut),
    "chunked-1-byte": (
        head("text/event-stream", "Transfer-Encoding: chunked") + _chunked(SSE, 1),
        events(SSE),
    ),
    "chunked-extensions-upper-hex": (
        head("text/event-stream", "Transfer-Encoding: chunked") + _chunked(SSE, 30, ext=";a=b", upper=True),
        events(SSE),
    ),
    "chunked-no-last-chunk": (
        head("text/event-stream", "Transfer-Encoding: chunked") + _chunked(SSE, 64, end=b""),
        events(SSE),
    ),
    "chunked-bad-size-after-events": (
        head("text/event-stream", "Transfer-Encoding: chunked")
        + _chunked(block(S) + block(T), 50, end=b"")
        + b"zz\r\nxx\r\n",
        malformed(events(block(S) + block(T))),
    ),
    "chunked-illegal-header-after-events": (
        head("text/event-stream", "Transfer-Encoding: chunked")
        + _chunked(block(S) + block(T), 50, end=b"")
        + b"\x00\x01garbage\r\n",
        malformed(events(block(S) + block(T))),
    ),
    "chunked-cut-in-size-line": (
        head("text/event-stream", "Transfer-Encoding: chunked") + _chunked(block(S), 500, end=b"") + b"1",
        cut(events(block(S))),
    ),
    "chunked-cut-mid-chunk": (
        head("text/event-stream", "Transfer-Encoding: chunked")
        + _chunked(block(S), 500, end=b"")
        + b"64\r\ndata: {",
        cut(events(block(S))),
    ),
    "length-shorter-than-body": (
        head("text/event-stream", f"Content-Length: {len(SSE) - 5}") + SSE,
        events(SSE[:-5]),
    ),
    "length-longer-than-body": (
        head("text/event-stream", f"Content-Length: {len(SSE) + 50}") + SSE,
        events(SSE),
    ),
    "http-1.0": (head().replace(b"HTTP/1.1", b"HTTP/1.0", 1) + SSE, events(SSE)),
    "status-line-garbage": (b"HTTP/1.1 abc\r\n\r\n" + SSE, error),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n", error),
    "nothing": (b"", error),
}


def _run(runner: Runner, kind: str, wire: bytes) -> Outcome:
    runner.server.serve(wire)
    return runner.blocking("chat") if kind == "blocking" else runner.stream("wf")


@pytest.mark.parametrize("name", list(BLOCKING))
def test_blocking_http(runner, name):
    wire, judge = BLOCKING[name]
    outcome = _run(runner, "blocking", wire)
    problems = judge(outcome)
    assert not problems, f"{problems} ({outcome.describe()})"


@pytest.mark.parametrize("name", list(STREAMED))
def test_streamed_http(runner, name):
    wire, judge = STREAMED[name]
    outcome = _run(runner, "streaming", wire)
    problems = judge(outcome)
    assert not problems, f"{problems} ({outcome.describe()})"
