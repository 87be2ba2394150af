"""Issue 8: what proxies, gateways and broken plugins send, one focused case per defect, for Dify and
AsyncDify against a loopback server that plays exact bytes (tests/rawserver.py). Every outcome is a
clean end with every event that arrived, or a DifyError that says what happened."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import AsyncAPI, SyncAPI
from rawserver import Drip, RawServer, Repeat, answer, head, sse

from difytui import DifyAPIError, DifyDeadlineError, DifyError
from difytui.errors import DifyProtocolError

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


@pytest.fixture
def server():
    made = RawServer()
    yield made
    made.close()


@pytest.fixture(params=["sync", "async"])
def client(request, server):
    """``client(**kwargs)`` → a SyncAPI or AsyncAPI (tests/conftest.py) on the raw server's app "a"."""
    made: list = []

    def make(**overrides):
        kwargs = {"base_url": server.base_url, "apps": {"a": "app-hostile"}, "user": "u", **overrides}
        api = (SyncAPI if request.param == "sync" else AsyncAPI)(**kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


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
    server.serve(answer(DEEP))
    with pytest.raises(DifyProtocolError, match="nested too deeply"):
        blocking(client())


def test_a_deeply_nested_error_body_is_still_an_api_error(client, server):
    server.serve(answer(DEEP, "500 INTERNAL SERVER ERROR"))
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
        (answer(b""), ["200 OK", "empty body"]),
        (answer(b"", "204 No Content"), ["204 No Content"]),
        (answer(b"", "301 Moved Permanently", "text/html", f"Location: {WHERE}"), ["301", WHERE, "base_url"]),
        (answer(b"", "302 Found", "text/html"), ["302 Found"]),
        (answer(b"", "304 Not Modified"), ["304 Not Modified"]),
        (answer(b"{}"), ["empty JSON object"]),
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
    server.serve(answer(json.dumps(body).encode()))
    assert blocking(client()) == body


# -- 9. an overall run deadline ---------------------------------------------------------------------

DEADLINE = 1.0  # seconds: room for the run's POST and first event, short enough for a test


def warmed(api):
    """``api`` with app "a"'s /info already read (cached): inside the deadline, the run's POST and
    its first event are all that must arrive, not a metadata request as well."""
    api("app.info", "a")
    return api


@pytest.mark.parametrize(
    "endless",
    [Repeat(b"event: ping\n\n", 0.05), Repeat(b": keep-alive\n\n", 0.05), Drip(sse(T) * 100, 0.02)],
    ids=["pings", "comments", "a-byte-at-a-time"],
)
def test_an_endless_stream_meets_the_deadline_and_the_run_is_stopped(client, server, endless):
    api = warmed(client(deadline=DEADLINE))
    server.serve(head() + sse(S), endless)
    events, error = stream(api)
    assert events[:1] == [S] and isinstance(error, DifyDeadlineError)
    assert error.stopped_task == "t-1" and "stopped on the server" in str(error)
    assert server.stops() == ["/v1/workflows/tasks/t-1/stop"]


def test_a_blocking_run_meets_the_deadline_and_is_stopped(client, server):
    api = warmed(client(deadline=DEADLINE))
    server.serve(head() + sse(S), Repeat(b"event: ping\n\n", 0.05))
    with pytest.raises(DifyDeadlineError) as caught:
        blocking(api)
    assert caught.value.stopped_task == "t-1"
    assert server.stops() == ["/v1/workflows/tasks/t-1/stop"]


def test_a_dripping_blocking_answer_meets_the_deadline(client, server):
    body = json.dumps({"task_id": "t-1", "data": {"text": "x" * 500}}).encode()
    server.serve(answer(body)[: -len(body)], Drip(body, 0.02))  # the head, then ~10 s of body
    with pytest.raises(DifyDeadlineError, match="could not be stopped"):
        blocking(client(deadline=DEADLINE))


def test_a_dripping_head_is_cut_off_at_the_deadline_not_once_it_is_complete(client, server):
    wire = head() + sse(S)
    server.serve(Drip(wire, 0.05))  # the head alone takes ~3 s to arrive
    events, error = stream(client(deadline=DEADLINE))
    assert events == [] and isinstance(error, DifyDeadlineError)
    assert server.hung_up.wait(30) and server.hung_up_after < len(head())


def test_a_run_inside_the_deadline_is_untouched(client, server):
    server.serve(head() + STREAM)
    events, error = stream(client(deadline=30))
    assert error is None and events == [S, T, F] and not server.stops()


def test_there_is_no_deadline_by_default(client):
    assert client().client.deadline is None


@pytest.mark.parametrize("bad", [0, -1, float("inf"), "10", True])
def test_a_deadline_that_is_not_a_positive_number_is_refused(client, bad):
    with pytest.raises(DifyError, match="deadline"):
        client(deadline=bad)


def test_the_deadline_comes_from_the_config(tmp_path):
    from difytui import ConfigError, Dify
    from difytui.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[workspaces.w]\nbase_url = "http://x/v1"\ndeadline = 600\n')
    workspace = load_config(path).workspace()
    assert workspace.deadline == 600
    with Dify(workspace=workspace) as dify:
        assert dify.deadline == 600
    path.write_text('[workspaces.w]\nbase_url = "http://x/v1"\ndeadline = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == 3 and "deadline must be" in str(caught.value)


# -- 10. a run never goes out on a kept-alive connection ----------------------------------------------


def test_runs_and_stops_never_reuse_a_kept_alive_connection(client, server):
    api = client()
    for _ in range(3):
        server.serve(head() + STREAM)
        stream(api)
    server.serve(head() + STREAM)
    blocking(api)
    api("app.stop", "a", "t-1")
    carried: set[int] = set()
    for seen in server.requests:
        if not seen.path.endswith("/info"):
            # a request that is never retried arrives on a connection of its own
            assert seen.connection not in carried, [(r.connection, r.path) for r in server.requests]
        carried.add(seen.connection)


# -- 11. errors named for what they are -----------------------------------------------------------------


def test_a_corrupt_gzip_stream_is_named_as_such_not_as_a_cut(client, server):
    server.serve(head("text/event-stream", "200 OK", "Content-Encoding: gzip") + b"this is not gzip")
    events, error = stream(client())
    assert events == [] and isinstance(error, DifyProtocolError)
    assert "could not be decompressed" in str(error) and "cut" not in str(error)


def test_a_gzip_stream_is_read(client, server):
    server.serve(head("text/event-stream", "200 OK", "Content-Encoding: gzip") + gzip.compress(STREAM))
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
    monkeypatch.setenv("DIFY_API_KEY", "app-hostile")
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
