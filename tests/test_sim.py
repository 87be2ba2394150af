"""The simulator's own wire behaviour, over real loopback HTTP (the client's tests build on it)."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import httpx
import pytest

from difytui.sim import DEMO_APPS, Simulator


@pytest.fixture
def sim():
    with Simulator() as s:
        yield s


def _client(sim: Simulator, app_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=sim.base_url,
        headers={"Authorization": f"Bearer {sim.api_keys[app_id]}"},
        timeout=5,
    )


def _frames(body: bytes) -> list[bytes]:
    assert body.endswith(b"\n\n")
    return body[:-2].split(b"\n\n")


def _events(frames: list[bytes]) -> list[dict]:
    return [json.loads(f[len(b"data: ") :]) for f in frames if f.startswith(b"data: ")]


def _raw_post(sim: Simulator, app_id: str, path: str, payload: dict):
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    body = json.dumps(payload)
    headers = {
        "Authorization": f"Bearer {sim.api_keys[app_id]}",
        "Content-Type": "application/json",
    }
    conn.request("POST", "/v1" + path, body, headers)
    return conn, conn.getresponse()


CITY = {"inputs": {"city": "Kyōto"}, "query": "what to eat?", "user": "u1"}
REPORT = {"inputs": {"topic": "SSE", "audience": "engineers", "sections": 2}, "user": "u1"}


def test_demo_forms_cover_every_control_type():
    kinds = {next(iter(item)) for app in DEMO_APPS.values() for item in app["parameters"]["user_input_form"]}
    assert kinds >= {
        "text-input", "paragraph", "select", "number", "checkbox",
        "file", "file-list", "json_object", "external_data_tool",
    }  # fmt: skip
    assert {app["mode"] for app in DEMO_APPS.values()} == {
        "chat", "agent-chat", "advanced-chat", "workflow", "completion",
    }  # fmt: skip
    assert "bench-stream" not in DEMO_APPS


def test_chat_stream_framing_and_envelope(sim):
    conn, resp = _raw_post(
        sim,
        "support-bot",
        "/chat-messages",
        {"inputs": {"product": "difytui"}, "query": "hi", "user": "u1", "response_mode": "streaming"},
    )
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("X-Version") == "1.14.2"
    body = resp.read()
    conn.close()
    frames = _frames(body)
    assert not frames[0].startswith(b"event: ping")  # chat pings only after ping_interval
    events = _events(frames)
    assert len(events) == len(frames)
    assert [e["event"] for e in events[-2:]] == ["message", "message_end"]
    assert list(events[0])[:6] == [
        "event", "conversation_id", "message_id", "created_at", "task_id", "id",
    ]  # fmt: skip
    # orjson style: compact and raw UTF-8 (the answers contain é / emoji)
    assert b'":"' in frames[0] and b'", "' not in body
    assert "👋".encode() in body and b"\\u" not in body
    answer = "".join(e["answer"] for e in events if e["event"] == "message")
    assert answer.startswith("## Re: hi")


def test_workflow_stream_pings_first_and_nests_iterations(sim):
    with _client(sim, "report-builder") as c:
        r = c.post("/workflows/run", json={**REPORT, "response_mode": "streaming"})
    frames = _frames(r.content)
    assert frames[0] == b"event: ping"
    events = _events(frames)
    names = [e["event"] for e in events]
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    assert list(events[0]) == ["event", "workflow_run_id", "task_id", "data"]
    assert {"iteration_started", "iteration_next", "iteration_completed", "text_chunk"} <= set(names)
    nested = [e for e in events if e["event"] == "node_started" and e["data"]["iteration_id"]]
    assert len(nested) == 2
    outputs = events[-1]["data"]["outputs"]
    assert isinstance(outputs["report"], str) and isinstance(outputs["summary"], dict)
    chunks = "".join(e["data"]["text"] for e in events if e["event"] == "text_chunk")
    assert chunks == outputs["report"]


def test_blocking_and_error_body_bytes(sim):
    with _client(sim, "trip-planner") as c:
        ok = c.post("/chat-messages", json={**CITY, "response_mode": "blocking"})
        bad = c.post("/chat-messages", json={**CITY, "inputs": {}})
    assert ok.headers["content-type"] == "application/json; charset=utf-8"
    assert ok.content.startswith(b'{"event": "message", "task_id": ') and not ok.content.endswith(b"\n")
    body = ok.json()
    assert body["id"] == body["message_id"] and body["mode"] == "advanced-chat"
    assert bad.status_code == 400
    assert (
        bad.content == b'{"code":"invalid_param","message":"city is required in input form","status":400}\n'
    )


def test_auth_errors(sim):
    with httpx.Client(base_url=sim.base_url) as c:
        missing = c.post("/workflows/run", json=REPORT)
        wrong = c.get("/info", headers={"Authorization": "Bearer app-000000000000000000000000"})
        routing = c.get("/nope")
        method = c.get("/chat-messages", headers={"Authorization": "Bearer x"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
    assert missing.json()["message"] == "Authorization header must be provided and start with 'Bearer'"
    assert wrong.json() == {"code": "unauthorized", "message": "Access token is invalid", "status": 401}
    assert routing.status_code == 404 and routing.headers["content-type"].startswith("text/html")
    assert method.status_code == 405 and method.json()["code"] == "method_not_allowed"


def test_stream_validation_error_then_silence(sim):
    conn, resp = _raw_post(
        sim, "trip-planner", "/chat-messages", {**CITY, "inputs": {}, "response_mode": "streaming"}
    )
    assert resp.status == 200
    assert resp.read1(64) + resp.read1(256) == (
        b'event: ping\n\ndata: {"event":"error","message":"city is required in input form","status":500}\n\n'
    )
    conn.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        resp.read1(1)  # open and silent: the client has to close it itself
    thread = sim._thread
    sim.stop()  # cancels the silent stream instead of waiting out its 300 s (or the 5 s join)
    assert thread is not None and not thread.is_alive()
    try:
        rest = resp.read1(1)
    except TimeoutError:
        raise AssertionError("the stream is still open") from None
    except (OSError, http.client.HTTPException):
        rest = b""
    assert rest == b""
    conn.close()


def test_stop_chatflow_ends_with_stopped_workflow_finished(sim):
    sim.token_delay = 0.01
    events: list[dict] = []
    stopped = False
    with (
        _client(sim, "trip-planner") as c,
        c.stream("POST", "/chat-messages", json={**CITY, "response_mode": "streaming"}) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                # Once the LLM streams, the engine runs: the stop ends the run "stopped".
                if events[-1].get("from_variable_selector") == ["llm", "text"] and not stopped:
                    stopped = True
                    stop = c.post(f"/chat-messages/{events[0]['task_id']}/stop", json={"user": "u1"})
                    assert stop.json() == {"result": "success"}
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["status"] == "stopped"
    assert events[-1]["data"]["error"] == "Stopped by user."
    assert events[-1]["data"]["outputs"] == {}
    assert "message_end" not in [e["event"] for e in events]
    assert sim.stopped_tasks == [events[0]["task_id"]]
    with _client(sim, "trip-planner") as c:
        msgs = c.get("/messages", params={"user": "u1", "conversation_id": events[0]["conversation_id"]})
    partial = "".join(e["answer"] for e in events if e["event"] == "message")
    assert msgs.json()["data"][0]["answer"] == partial


def test_chat_pings_after_interval(sim):
    sim.token_delay, sim.ping_interval = 0.01, 0.05
    with _client(sim, "copywriter") as c:
        r = c.post(
            "/completion-messages",
            json={
                "inputs": {"product_name": "Tui", "brief": "A console"},
                "user": "u",
                "response_mode": "streaming",
            },
        )
    frames = _frames(r.content)
    assert frames[0].startswith(b"data: ") and b"event: ping" in frames


def test_upload_then_use_as_file_input(sim):
    with _client(sim, "report-builder") as c:
        up = c.post(
            "/files/upload", files={"file": ("notes.txt", b"hello", "text/plain")}, data={"user": "u1"}
        )
        none = c.post("/files/upload", data={"user": "u1"}, files={"other": ("a.txt", b"x", "text/plain")})
        file = {"type": "document", "transfer_method": "local_file", "upload_file_id": up.json()["id"]}
        run = c.post("/workflows/run", json={**REPORT, "inputs": {**REPORT["inputs"], "attachments": [file]}})
        unknown = {**file, "upload_file_id": "7a1b2c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d"}
        bad = c.post(
            "/workflows/run", json={**REPORT, "inputs": {**REPORT["inputs"], "attachments": [unknown]}}
        )
    assert up.status_code == 201
    assert up.json()["name"] == "notes.txt" and up.json()["size"] == 5
    assert none.json()["code"] == "no_file_uploaded"
    assert run.status_code == 200 and "notes.txt" in run.json()["data"]["outputs"]["report"]
    assert bad.json()["message"] == "Invalid upload file id"


def test_chunk_seed_cuts_inside_utf8():
    with Simulator(chunk_seed=7) as sim, _client(sim, "support-bot") as c:
        payload = {
            "inputs": {"product": "difytui"},
            "query": "é 日本 🎉 " * 20,
            "user": "u",
            "response_mode": "streaming",
        }
        with c.stream("POST", "/chat-messages", json=payload) as r:
            pieces = list(r.iter_raw())
    body = b"".join(pieces)
    assert len(pieces) > 50
    assert any(_splits_utf8(p) for p in pieces)
    events = _events(_frames(body))
    assert events[-1]["event"] == "message_end"
    assert "é 日本 🎉 " * 20 in "".join(e.get("answer", "") for e in events)


def _splits_utf8(piece: bytes) -> bool:
    try:
        piece.decode()
    except UnicodeDecodeError:
        return True
    return False


def test_faults(sim):
    sim.add_fault("/v1/chat-messages", "status", status=502, body="<html>Bad Gateway</html>")
    sim.add_fault("/v1/chat-messages", "cut", after=2)
    payload = {"inputs": {"product": "difytui"}, "query": "hi", "user": "u", "response_mode": "streaming"}
    with _client(sim, "support-bot") as c:
        proxy = c.post("/chat-messages", json=payload)
        seen = []
        with pytest.raises(httpx.RemoteProtocolError), c.stream("POST", "/chat-messages", json=payload) as r:
            seen.extend(line for line in r.iter_lines() if line)
        after = c.post("/chat-messages", json=payload)
    assert proxy.status_code == 502 and proxy.text == "<html>Bad Gateway</html>"
    assert "x-version" not in proxy.headers
    assert len(seen) == 2
    assert after.status_code == 200  # faults are one-shot
    assert [r.path for r in sim.requests] == ["/v1/chat-messages"] * 3
    assert sim.requests[0].json["user"] == "u"


def test_concurrent_streams_and_conversations(sim):
    sim.token_delay = 0.001
    results: dict[int, int] = {}

    def worker(i: int) -> None:
        with _client(sim, "support-bot") as c:
            r = c.post(
                "/chat-messages",
                json={
                    "inputs": {"product": "difytui"},
                    "query": f"q{i}",
                    "user": f"user{i % 2}",
                    "response_mode": "streaming",
                },
            )
            results[i] = r.status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == dict.fromkeys(range(8), 200)
    with _client(sim, "support-bot") as c:
        convs = c.get("/conversations", params={"user": "user0", "limit": 3}).json()
    assert convs["has_more"] is True and len(convs["data"]) == 3
    assert {d["name"] for d in convs["data"]} <= {"q0", "q2", "q4", "q6"}


def test_stopped_chat_ends_with_message_end_and_keeps_partial_answer(sim):
    sim.token_delay = 0.01
    sim.add_fault("/v1/chat-messages", "hold", after=3)  # held once the third event is out
    payload = {"inputs": {"product": "difytui"}, "query": "hi", "user": "u1", "response_mode": "streaming"}
    events: list[dict] = []
    with _client(sim, "support-bot") as c:
        with c.stream("POST", "/chat-messages", json=payload) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if len(events) == 3:
                        c.post(f"/chat-messages/{events[0]['task_id']}/stop", json={"user": "u1"})
        history = c.get("/messages", params={"user": "u1", "conversation_id": events[0]["conversation_id"]})
    # The fourth word was drawn when the hold began: it still arrives, then the stop ends the run.
    assert [e["event"] for e in events] == ["message"] * 4 + ["message_end"]
    assert history.json()["data"][0]["answer"] == "".join(e["answer"] for e in events[:4])


def test_conversation_rules(sim):
    unknown = "7a1b2c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d"
    with _client(sim, "trip-planner") as flow, _client(sim, "support-bot") as bot:
        fresh = flow.post("/chat-messages", json={**CITY, "conversation_id": unknown})
        missing = bot.post(
            "/chat-messages",
            json={"inputs": {"product": "difytui"}, "query": "q", "user": "u1", "conversation_id": unknown},
        )
        no_inputs = bot.post("/chat-messages", json={"query": "q", "user": "u1"})
    assert fresh.status_code == 200 and fresh.json()["conversation_id"] != unknown
    assert missing.status_code == 404
    assert missing.json()["message"].startswith("Conversation Not Exists. You have requested this URI")
    assert no_inputs.json()["message"].startswith(
        "1 validation error for ChatRequestPayload\ninputs\n  Field required"
    )


def test_connection_serves_the_next_request_after_an_error_stream_ends(sim):
    # A path-B error stream ends once error_silence has passed. A keep-alive client then sends its
    # next request on the same connection: it must be read whole and answered.
    sim.error_silence = 0.01
    conn, resp = _raw_post(
        sim, "trip-planner", "/chat-messages", {**CITY, "inputs": {}, "response_mode": "streaming"}
    )
    assert b'"event":"error"' in resp.read()
    for _ in range(3):
        conn.request("GET", "/v1/info", headers={"Authorization": f"Bearer {sim.api_keys['trip-planner']}"})
        again = conn.getresponse()
        assert again.status == 200 and json.loads(again.read())["name"]
    conn.close()


def test_chatflow_answer_names_the_messages_attachments(sim):
    with _client(sim, "trip-planner") as c:
        up = c.post(
            "/files/upload", files={"file": ("sunset.png", b"\x89PNG\r\n", "image/png")}, data={"user": "u1"}
        )
        photo = {"type": "image", "transfer_method": "local_file", "upload_file_id": up.json()["id"]}
        with_file = c.post("/chat-messages", json={**CITY, "files": [photo], "response_mode": "blocking"})
        without = c.post("/chat-messages", json={**CITY, "response_mode": "blocking"})
    assert "Thanks for the attachments: *sunset.png*" in with_file.json()["answer"]
    assert "attachments" not in without.json()["answer"]


def test_citations_stream_as_dify_objects_and_history_lists_them_with_ids(sim):
    payload = {"inputs": {"product": "difytui"}, "query": "hi", "user": "u1", "response_mode": "streaming"}
    with _client(sim, "support-bot") as c:
        events = _events(_frames(c.post("/chat-messages", json=payload).content))
        end = events[-1]
        assert end["event"] == "message_end"
        (cited,) = end["metadata"]["retriever_resources"]
        # citation_metadata.py's RetrievalSourceMetadata: no id, message_id or created_at.
        assert {"id", "message_id", "created_at"}.isdisjoint(cited)
        assert cited["dataset_name"] and cited["document_name"] and cited["content"]
        history = c.get("/messages", params={"user": "u1", "conversation_id": end["conversation_id"]}).json()
        (listed,) = history["data"][0]["retriever_resources"]
        assert listed["message_id"] == end["message_id"] and listed["id"] and listed["created_at"]
        assert listed["document_name"] == cited["document_name"] and "retriever_from" not in listed
