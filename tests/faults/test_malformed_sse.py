"""The named malformed event streams (issue 8): odd event values, deep nesting, charset labels,
blocks without data, a BOM, the media type's case, line ends. Each is a small run S … F around
the oddity; the reading of the SSE standard (wire.expected) says what must be delivered."""

from __future__ import annotations

import json

import pytest

from difytui.errors import DifyProtocolError

from .harness import judge_error, run_streamed
from .wire import F, S, T, block, head

DEEP = "[" * 1000 + "]" * 1000
DEEPER = "[" * 100_000 + "]" * 100_000
WHOLE = block(S) + block(T) + block(F)

#: ``workflow_finished`` events whose ``data.status`` is missing or not text
FINISHED_WITHOUT_STATUS: dict[str, dict] = {
    "data-null": {**F, "data": None},
    "no-data": {key: value for key, value in F.items() if key != "data"},
    "data-list": {**F, "data": []},
    "no-status": {**F, "data": {key: v for key, v in F["data"].items() if key != "status"}},
    "status-null": {**F, "data": {**F["data"], "status": None}},
    "status-number": {**F, "data": {**F["data"], "status": 1}},
    "status-empty": {**F, "data": {**F["data"], "status": ""}},
}

#: name → (Content-Type, body)
CASES: dict[str, tuple[str, bytes]] = {
    # 1. any JSON value as the event name
    "event-list": ("text/event-stream", block(S) + block('{"event":["x"]}') + block(F)),
    "event-object": ("text/event-stream", block(S) + block('{"event":{}}') + block(F)),
    "event-empty-object": ("text/event-stream", block(S) + block("{}") + block(F)),
    "event-null": ("text/event-stream", block(S) + block('{"event":null}') + block(F)),
    "event-number": ("text/event-stream", block(S) + block('{"event":1.5e308}') + block(F)),
    "event-true": ("text/event-stream", block(S) + block('{"event":true}') + block(F)),
    # 2. deep nesting: as the event, and inside one
    "deep-array-event": ("text/event-stream", block(S) + block(DEEP) + block(F)),
    "deep-inside-event": (
        "text/event-stream",
        block(S) + block('{"event":"x","data":' + DEEP + "}") + block(F),
    ),
    "deeper-array-event": ("text/event-stream", block(S) + block(DEEPER) + block(F)),
    "deep-object-event": (
        "text/event-stream",
        block(S) + block('{"a":' * 1000 + "1" + "}" * 1000) + block(F),
    ),
    # other data that is not an event object
    "not-json": ("text/event-stream", block(S) + block("{nope") + block(F)),
    "json-string": ("text/event-stream", block(S) + block('"workflow_finished"') + block(F)),
    "json-array": ("text/event-stream", block(S) + block('[{"event":"workflow_finished"}]') + block(F)),
    # 4. values that are legal JSON but awkward to print
    "lone-surrogate": (
        "text/event-stream",
        block(S) + block('{"event":"text_chunk","data":{"text":"\\ud800"}}') + block(F),
    ),
    "nan-and-infinity": (
        "text/event-stream",
        block(S) + block('{"event":"text_chunk","data":{"n":NaN,"i":-Infinity,"j":Infinity}}') + block(F),
    ),
    "control-and-c1": (
        "text/event-stream",
        block(S) + block('{"event":"text_chunk","data":{"text":"\\u001b[31m\\u009b"}}') + block(F),
    ),
    # 5. blocks without data are ignored
    "retry-alone": ("text/event-stream", block(S) + b"retry: 3000\n\n" + block(T) + block(F)),
    "id-alone": ("text/event-stream", block(S) + b"id: 7\n\n" + block(T) + block(F)),
    "keepalive-event-alone": ("text/event-stream", block(S) + b"event: keepalive\n\n" + block(T) + block(F)),
    "extra-blank-after-id": ("text/event-stream", block(S) + b"id: 7\n\n\n" + block(T) + block(F)),
    "id-then-event": ("text/event-stream", b"id: 1\n" + block(S) + b"\n\n\n" + block(T) + block(F)),
    "comment": ("text/event-stream", b": hello\n\n" + block(S) + b":\n\n" + block(T) + block(F)),
    "ping-with-data": ("text/event-stream", block(S) + b"event: ping\ndata: {}\n\n" + block(F)),
    "unknown-fields": ("text/event-stream", b"foo: bar\nbaz\n" + block(S) + block(T) + block(F)),
    # 6. a BOM before the first event
    "utf8-bom": ("text/event-stream", b"\xef\xbb\xbf" + WHOLE),
    # 7. media types are case-insensitive
    "media-type-case": ("Text/Event-Stream", WHOLE),
    "media-type-upper": ("TEXT/EVENT-STREAM; CHARSET=UTF-8", WHOLE),
    "media-type-spaces": ("text/event-stream ;charset=utf-8", WHOLE),
    # line ends and framing the standard allows
    "crlf": ("text/event-stream", WHOLE.replace(b"\n", b"\r\n")),
    "cr-only": ("text/event-stream", WHOLE.replace(b"\n", b"\r")),
    "no-space-after-colon": ("text/event-stream", WHOLE.replace(b"data: ", b"data:")),
    "data-split-over-lines": (
        "text/event-stream",
        block(S) + b'data: {"event":"text_chunk",\ndata: "data":{"text":"x"}}\n\n' + block(F),
    ),
    "event-type-message": ("text/event-stream", block(S) + b"event: message\n" + block(T) + block(F)),
    "big-event": (
        "text/event-stream",
        block(S) + block({"event": "text_chunk", "data": {"text": "x" * 1_000_000}}) + block(F),
    ),
    "error-event-ends": (
        "text/event-stream",
        block(S) + block({"event": "error", "status": 500, "code": "x", "message": "boom"}),
    ),
    # a terminal event whose status cannot be read: never a success (the CLI's exit, a blocking call)
    **{
        f"finished-{name}": ("text/event-stream", block(S) + block(T) + block(ending))
        for name, ending in FINISHED_WITHOUT_STATUS.items()
    },
    "invalid-utf8": (
        "text/event-stream",
        block(S) + b'data: {"event":"text_chunk","data":{"text":"\xff\xfe"}}\n\n' + block(F),
    ),
}

#: 3. charset labels: SSE is UTF-8 whatever the label says (latin-1 must not give mojibake)
for _label in (
    "utf-16",
    "utf-32",
    "idna",
    "hex",
    "base64",
    "rot13",
    "punycode",
    "latin-1",
    "ascii",
    "no-such-codec",
    "",
):
    CASES[f"charset-{_label or 'empty'}"] = (f"text/event-stream; charset={_label}", WHOLE)


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_stream(runner, name):
    content_type, body = CASES[name]
    problems = run_streamed(runner, "wf", [head(content_type) + body], body)
    assert not problems, problems


def test_the_cases_mean_what_they_say():
    """The reference reading itself: the named no-data and BOM cases deliver every event."""
    from .wire import expected

    for name in ("retry-alone", "id-alone", "extra-blank-after-id", "utf8-bom", "crlf", "cr-only"):
        reading = expected(CASES[name][1], "workflow")
        assert reading.terminal and not reading.bad, name
        assert [e["event"] for e in reading.events][-1] == "workflow_finished", name
    assert json.loads(CASES["charset-latin-1"][1].split(b"\n")[2][6:])["data"]["text"] == T["data"]["text"]


@pytest.mark.parametrize("name", list(FINISHED_WITHOUT_STATUS))
def test_a_blocking_run_whose_end_has_no_status_is_a_protocol_error(runner, name):
    # The fold used to return {"data": {}}: a success with no answer.
    runner.server.serve(head() + CASES[f"finished-{name}"][1])
    outcome = runner.blocking("wf")
    assert not judge_error(outcome), (judge_error(outcome), outcome.result)
    assert isinstance(outcome.error, DifyProtocolError) and "could not be read" in str(outcome.error)
