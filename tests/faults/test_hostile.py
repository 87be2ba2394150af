"""Issue 8: what proxies, gateways and broken plugins send, one focused case per defect, for Dify and
AsyncDify against the loopback server that plays exact bytes (tests/faults/server.py). Every outcome
is a clean end with every event that arrived, or a DifyError that says what happened."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import api_maker

from difytui import DifyAPIError, DifyError
from difytui.errors import DifyProtocolError

from .server import Drip, FaultServer, response
from .wire import block as sse
from .wire import head

S = {"event": "workflow_started", "task_id": "t-1", "workflow_run_id": "r-1", "data": {"id": "r-1"}}
T = {"event": "text_chunk", "task_id": "t-1", "workflow_run_id": "r-1", "data": {"text": "café ☕ 日本"}}
F = {
    "event": "workflow_finished",
    "task_id": "t-1",
    "workflow_run_id": "r-1",
    "data": {"id": "r-1", "workflow_id": "w-1", "status": "succeeded", "outputs": {"x": 1}, "error": None},
}
STREAM = sse(S) + sse(T) + sse(F)
#: Deeper than Python's json parses (it raises RecursionError, which is not a ValueError).
DEEP = b"[" * 5000 + b"]" * 5000


KEY = "app-hostile"


@pytest.fixture(params=["sync", "async"])
def client(request, server: FaultServer):
    """``client(**kwargs)`` → a SyncAPI or AsyncAPI (tests/conftest.py) on the server's workflow app "a"."""
    server.app(KEY, "workflow")
    with api_maker(request.param, base_url=server.base_url, apps={"a": KEY}, user="u") as make:
        yield make


def stream(api):
    return api.collect("app.workflow.invoke", "a", {})


def blocking(api):
    return api("app.workflow.invoke", "a", {}, response_mode="blocking")


# -- 1. any JSON value is safe as an event's name ---------------------------------------------------


@pytest.mark.parametrize("odd", [["x"], {}, {"a": [1]}, None, 7])
def test_an_event_named_by_any_json_value_is_delivered_and_the_run_goes_on(client, server, odd):
    server.serve(head() + sse(S) + sse({"event": odd}) + sse(F))
    events, error = stream(client())
    assert error is None and events == [S, {"event": odd}, F]
    server.serve(head() + sse(S) + sse({"event": odd}) + sse(F))
    assert blocking(client())["data"]["status"] == "succeeded"


# -- 2. JSON nested deeper than Python parses -------------------------------------------------------


def test_a_deeply_nested_event_is_a_protocol_error_after_the_good_ones(client, server):
    server.serve(head() + sse(S) + b"data: " + DEEP + b"\n\n" + sse(F))
    events, error = stream(client())
    assert events == [S] and isinstance(error, DifyProtocolError) and "nested too deeply" in str(error)


def test_a_deeply_nested_blocking_answer_is_a_protocol_error(client, server):
    server.serve(response(DEEP))
    with pytest.raises(DifyProtocolError, match="nested too deeply"):
        blocking(client())


def test_a_deeply_nested_error_body_is_still_an_api_error(client, server):
    server.serve(response(DEEP, "500 INTERNAL SERVER ERROR"))
    with pytest.raises(DifyAPIError) as caught:
        blocking(client())
    assert caught.value.status == 500


# -- 3. the stream is UTF-8 whatever its charset label says -----------------------------------------


@pytest.mark.parametrize(
    "charset", ["utf-16", "utf-32", "latin-1", "iso-8859-15", "idna", "hex", "base64", "rot13", "punycode"]
)
def test_the_stream_is_read_as_utf8_whatever_its_charset_label(client, server, charset):
    server.serve(head(f"text/event-stream; charset={charset}") + STREAM)
    events, error = stream(client())
    assert error is None and events == [S, T, F]


# -- 5, 6, 7. what the SSE standard says to ignore or accept ----------------------------------------


@pytest.mark.parametrize(
    "block", [b"retry: 3000\n\n", b"id: 7\n\n", b"event: keepalive\n\n", b"id: 7\n\n\n", b"id: 7\r\n\r\n\r\n"]
)
def test_a_block_without_data_is_ignored(client, server, block):
    server.serve(head() + sse(S) + block + sse(T) + sse(F))
    events, error = stream(client())
    assert error is None and events == [S, T, F]


def test_a_leading_byte_order_mark_is_dropped_and_the_first_event_kept(client, server):
    server.serve(head() + b"\xef\xbb\xbf" + STREAM)
    events, error = stream(client())
    assert error is None and events == [S, T, F]


def test_a_byte_order_mark_split_across_reads_is_dropped_too(client, server):
    server.serve(head(), Drip(b"\xef\xbb\xbf" + sse(S)[:8], 0.002), sse(S)[8:] + sse(T) + sse(F))
    events, error = stream(client())
    assert error is None and events == [S, T, F]


def test_a_line_end_held_back_at_the_very_end_still_ends_the_last_event(client, server):
    crlf = STREAM.replace(b"\n", b"\r")  # CR-only line ends: the last CR might have been half a CRLF
    server.serve(head() + crlf)
    events, error = stream(client())
    assert error is None and events == [S, T, F]


@pytest.mark.parametrize("content_type", ["Text/Event-Stream", "TEXT/EVENT-STREAM; Charset=UTF-8"])
def test_the_media_type_is_case_insensitive(client, server, content_type):
    server.serve(head(content_type) + STREAM)
    events, error = stream(client())
    assert error is None and events == [S, T, F]


# -- 8. a blocking call that got no answer ------------------------------------------------------------

WHERE = "https://elsewhere.example/v1/workflows/run"


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (response(b""), ["200 OK", "empty body"]),
        (response(b"", "204 No Content"), ["204 No Content"]),
        (
            response(b"", "301 Moved Permanently", content_type="text/html", extra=(f"Location: {WHERE}",)),
            ["301", WHERE, "base_url"],
        ),
        (response(b"", "302 Found", content_type="text/html"), ["302 Found"]),
        (response(b"", "304 Not Modified"), ["304 Not Modified"]),
        (response(b"{}"), ["empty JSON object"]),
    ],
)
def test_a_blocking_run_without_an_answer_is_an_error_saying_what_came_back(client, server, reply, words):
    server.serve(reply)
    with pytest.raises(DifyError) as caught:
        blocking(client())
    for word in words:
        assert word in str(caught.value)


def test_a_blocking_run_answered_in_blocking_mode_anyway_returns_that_answer(client, server):
    body = {"task_id": "t-1", "workflow_run_id": "r-1", "data": {"id": "r-1", "status": "succeeded"}}
    server.serve(response(json.dumps(body).encode()))
    assert blocking(client()) == body


# -- 9. an overall run deadline: see test_deadline.py ------------------------------------------------


# -- 10. a run never goes out on a kept-alive connection ----------------------------------------------


def test_runs_and_stops_never_reuse_a_kept_alive_connection(client, server):
    api = client()
    seen = []  # serve() starts a new record: keep each run's
    for run in (stream, stream, stream, blocking):
        server.serve(head() + STREAM)
        run(api)
        if run is blocking:
            api("app.stop", "a", "t-1")
        seen += server.requests
    reads = [r for r in seen if r.method == "GET"]
    assert reads, "the /info read, on a kept-alive connection"
    carried: set[int] = set()
    for request in seen:
        if request not in reads:
            # a request that is never retried arrives on a connection of its own
            assert request.connection not in carried, [(r.connection, r.path) for r in seen]
        carried.add(request.connection)


# -- 11. errors named for what they are -----------------------------------------------------------------


def test_a_corrupt_gzip_stream_is_named_as_such_not_as_a_cut(client, server):
    server.serve(head("text/event-stream", "Content-Encoding: gzip") + b"this is not gzip")
    events, error = stream(client())
    assert events == [] and isinstance(error, DifyProtocolError)
    assert "could not be decompressed" in str(error) and "cut" not in str(error)


def test_a_gzip_stream_is_read(client, server):
    server.serve(head("text/event-stream", "Content-Encoding: gzip") + gzip.compress(STREAM))
    events, error = stream(client())
    assert error is None and events == [S, T, F]


def test_a_content_type_that_only_mentions_event_stream_is_named_as_such(client, server):
    server.serve(head("text/plain; profile=text/event-stream") + STREAM)
    events, error = stream(client())
    assert events == [] and isinstance(error, DifyProtocolError)
    assert "without an event stream" in str(error) and "cut" not in str(error)


# -- 4. the CLI: every stdout line strict JSON, no traceback --------------------------------------------


def _strict(line: str):
    def refuse(token: str):
        raise ValueError(f"{token} is not JSON")

    return json.loads(line, parse_constant=refuse)


def test_cli_prints_strict_json_for_lone_surrogates_and_non_finite_numbers(server, monkeypatch, capsys):
    from difytui.cli import main

    monkeypatch.setenv("DIFY_BASE_URL", server.base_url)
    server.app(KEY, "workflow")
    monkeypatch.setenv("DIFY_API_KEY", KEY)
    monkeypatch.setenv("DIFY_APP_ID", "a")
    odd = (
        b'data: {"event":"text_chunk","task_id":"t-1","data":{"text":"a\\ud800b","n":NaN}}\n\n'
        b'data: {"event":"text_chunk","task_id":"t-1","data":{"text":"\\udfff","m":-Infinity}}\n\n'
    )
    server.serve(head() + sse(S) + odd + sse(F))
    code = main(["invoke", "a"])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0, err
    printed = [_strict(line) for line in lines]  # raises on NaN, -Infinity or invalid JSON
    names = ["workflow_started", "text_chunk", "text_chunk", "workflow_finished"]
    assert [event["event"] for event in printed] == names
    assert printed[1]["data"] == {"text": "a\ud800b", "n": None}
    assert printed[2]["data"] == {"text": "\udfff", "m": None}
    assert err.count("NaN or Infinity") == 1 and "Traceback" not in err


def test_cli_output_falls_back_to_ascii_escapes_when_stdout_cannot_encode(monkeypatch):
    import io

    from difytui.cli_output import emit as _emit

    raw = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(raw, encoding="ascii"))
    _emit({"answer": "café ☕"})
    assert json.loads(raw.getvalue().decode("ascii")) == {"answer": "café ☕"}
