"""The simulator's Human Input apps answer as Dify 1.14.2 did in the captures (issue 12, facts 1–30).

Event orders and body keys are compared with ``shared/captures/human-input-history``. Listeners are
opened before a submit (the robust order, fact 23) and the tests wait on events, never on the clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from difytui.sim import Simulator

CAPTURES = Path("/work/shared/captures/human-input-history")
USER = "hi-user-1"
GOOD = {"note": "ship it", "choice": "b", "ref": "JIRA-7"}


def captured_events(name: str) -> list[dict]:
    (path,) = CAPTURES.glob(name + "_*.http")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]


def captured_body(name: str) -> tuple[int, Any]:
    (path,) = CAPTURES.glob(name + "_*.http")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("###")]
    body = lines[lines.index("") + 1 :]
    return int(lines[0].split()[1]), json.loads("\n".join(body)) if body and body[0] else None


pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="the captures are not on this machine")


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_996_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token_delay=0.0) as s:
        s.state.clock = Clock()
        yield s


def client(sim: Simulator, app_id: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sim.api_keys[app_id]}"}
    return httpx.Client(base_url=sim.base_url, headers=headers, timeout=10)


def sse(lines: Iterator[str]) -> Iterator[dict | str]:
    """Data events as dicts, pings as "ping"."""
    for line in lines:
        if line == "event: ping":
            yield "ping"
        elif line.startswith("data: "):
            yield json.loads(line[6:])


def start(c: httpx.Client, app: str, value: str = "Q3 budget", mode: str = "streaming") -> Any:
    if app.startswith("hi-chat"):
        body = {"inputs": {"city": value}, "query": "need approval", "response_mode": mode, "user": USER}
        r = c.post("/chat-messages", json=body)
    else:
        body = {"inputs": {"topic": value}, "response_mode": mode, "user": USER}
        r = c.post("/workflows/run", json=body)
    assert r.status_code == 200, r.text
    return r.json() if mode == "blocking" else [e for e in sse(iter(r.text.splitlines())) if e != "ping"]


def names(events: list) -> list[str]:
    return [e["event"] if isinstance(e, dict) else e for e in events]


class Listener:
    """A ``/events`` stream read on a thread; ``wait_for`` blocks until that event arrived."""

    def __init__(self, c: httpx.Client, run_id: str, **flags: bool) -> None:
        params = {"user": USER, **{k: "true" for k, v in flags.items() if v}}
        c = httpx.Client(base_url=c.base_url, headers=c.headers)  # its own connection
        self.events: list[dict | str] = []
        self.closed = threading.Event()
        self._cv = threading.Condition()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(c, run_id, params), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)  # the server answered: it has subscribed

    def _read(self, c: httpx.Client, run_id: str, params: dict) -> None:
        with c, c.stream("GET", f"/workflow/{run_id}/events", params=params, timeout=30) as r:
            self.status = r.status_code
            self._ready.set()
            for event in sse(r.iter_lines()):
                with self._cv:
                    self.events.append(event)
                    self._cv.notify_all()
                if self.closed.is_set():
                    return
        self.closed.set()
        with self._cv:
            self._cv.notify_all()

    def wait_for(self, name: str, count: int = 1) -> list:
        with self._cv:
            assert self._cv.wait_for(lambda: names(self.events).count(name) >= count, 20), names(self.events)
            return list(self.events)

    def join(self) -> list:
        self._thread.join(20)
        assert not self._thread.is_alive()
        return list(self.events)


def test_a_streaming_run_pauses_on_the_form_as_captured(sim):
    with client(sim, "hi-wf") as c:
        events = start(c, "hi-wf")
    real = captured_events("A01")
    assert names(events) == names(real)
    for mine, theirs in zip(events, real, strict=True):
        assert list(mine) == list(theirs)
        assert set(mine["data"]) == set(theirs["data"]), mine["event"]
    required, paused = events[-2]["data"], events[-1]["data"]
    assert required["form_content"] == real[-2]["data"]["form_content"]  # same topic, rendered
    assert required["inputs"] == real[-2]["data"]["inputs"] and required["display_in_ui"] is True
    assert required["resolved_default_values"] == {"ref": "Q3 budget"}
    assert list(paused["reasons"][0]) == list(real[-1]["data"]["reasons"][0])


def test_blocking_runs_return_at_the_pause(sim):
    with client(sim, "hi-wf") as c:
        wf = start(c, "hi-wf", "Q4 hiring", "blocking")
    with client(sim, "hi-chat") as c:
        chat = start(c, "hi-chat", "Berlin", "blocking")
    _, real_wf = captured_body("A02")
    _, real_chat = captured_body("C02")
    assert list(wf) == list(real_wf) and list(wf["data"]) == list(real_wf["data"])
    assert wf["data"]["status"] == "paused" and wf["data"]["finished_at"] is None
    assert list(chat) == list(real_chat) and list(chat["data"]) == list(real_chat["data"])
    assert chat["answer"] == "pre-pause: need approval @ Berlin. "


def test_form_get_and_every_submit_error(sim):
    with client(sim, "hi-wf") as c, client(sim, "hi-chat") as other:
        token = start(c, "hi-wf")[-1]["data"]["reasons"][0]["form_token"]
        url = f"/form/human_input/{token}"
        got = c.get(url)
        assert got.status_code == 200 and list(got.json()) == list(captured_body("A03")[1])
        assert got.headers["content-type"] == "application/json"
        assert other.get(url).status_code == 404
        assert c.get("/form/human_input/doesNotExist123").json()["message"].startswith("Form not found.")

        def post(body: dict) -> tuple[int, dict]:
            r = c.post(url, json=body)
            return r.status_code, r.json()

        bad_select = {"inputs": {"note": "n", "choice": "c", "ref": "r"}, "action": "approve", "user": USER}
        assert post(bad_select) == captured_body("A06")
        assert post({"inputs": {"note": "n"}, "action": "approve", "user": USER}) == captured_body("A07")
        assert post({"inputs": GOOD, "action": "maybe", "user": USER}) == (
            400,
            {"code": "invalid_form_data", "message": "Invalid action: maybe", "status": 400},
        )
        assert post({"inputs": GOOD, "action": "approve"}) == captured_body("A09")
        status, body = post({"inputs": GOOD, "user": USER})
        assert status == 400
        assert body["message"].startswith("1 validation error for HumanInputFormSubmitPayload\naction")
        assert post({"inputs": GOOD, "action": "approve", "user": "someone-else"}) == (200, {})  # X08
        status, body = post({"inputs": GOOD, "action": "reject", "user": USER})
        assert status == 412 and body["code"] == "human_input_form_submitted"
        assert c.get(url).status_code == 412


def test_an_expired_form_answers_412_and_the_run_stays_paused(sim):
    with client(sim, "hi-wf") as c:
        body = start(c, "hi-wf", mode="blocking")
        token = body["data"]["reasons"][0]["form_token"]
        sim.state.clock.now = body["data"]["reasons"][0]["expiration_time"]
        got = c.get(f"/form/human_input/{token}")
        assert got.status_code == 412 and got.json()["code"] == "human_input_form_expired"
        post = c.post(f"/form/human_input/{token}", json={"inputs": GOOD, "action": "approve", "user": USER})
        assert post.status_code == 412
        assert post.json()["message"].startswith("This form has expired, form_id=")
        assert c.get(f"/workflows/run/{body['workflow_run_id']}").json()["status"] == "paused"


def test_a_form_without_web_app_delivery_cannot_be_filled_here(sim):
    with client(sim, "hi-wf-nodeliv") as c:
        required = start(c, "hi-wf-nodeliv")[-2]["data"]
        assert required["display_in_ui"] is False and required["form_token"]
        assert c.get(f"/form/human_input/{required['form_token']}").status_code == 404


def test_snapshot_listener_opened_before_the_submit_sees_the_whole_resume(sim):
    with client(sim, "hi-wf") as c:
        run_id = start(c, "hi-wf", mode="blocking")["workflow_run_id"]
        token = c.get(f"/workflows/run/{run_id}").json() and sim.state.run_logs[run_id].forms[0].token
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        submit = {"inputs": GOOD, "action": "approve", "user": USER}
        assert c.post(f"/form/human_input/{token}", json=submit).json() == {}
        events = listener.join()
    assert names(events) == names(["ping", *captured_events("A24")])
    replayed = events[1:8]
    assert replayed[0]["data"]["reason"] == "initial" and list(replayed[0])[:2] == ["event", "task_id"]
    assert replayed[4]["data"]["status"] == "paused"  # the Human Input node, replayed
    assert "{{#start.topic#}}" in replayed[5]["data"]["form_content"]  # unrendered (fact 17)
    assert replayed[6]["data"]["elapsed_time"] == 0.0
    filled = next(e for e in events if isinstance(e, dict) and e["event"] == "human_input_form_filled")
    assert filled["data"]["rendered_content"].endswith("Note: ship it\n\nChoice: b\n\nRef: JIRA-7")
    finished = events[-1]["data"]
    assert finished["status"] == "succeeded" and finished["outputs"]["action_title"] == "Approve"


def test_snapshot_without_continue_closes_after_the_replayed_pause(sim):
    with client(sim, "hi-wf") as c:
        run_id = start(c, "hi-wf", mode="blocking")["workflow_run_id"]
        events = Listener(c, run_id, include_state_snapshot=True).join()
    assert names(events)[-2:] == ["human_input_required", "workflow_paused"]


def test_a_finished_run_sends_one_workflow_finished_with_spaces(sim):
    with client(sim, "hi-wf") as c:
        run_id = start(c, "hi-wf", mode="blocking")["workflow_run_id"]
        token = sim.state.run_logs[run_id].forms[0].token
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        c.post(f"/form/human_input/{token}", json={"inputs": GOOD, "action": "reject", "user": USER})
        listener.join()
        raw = c.get(f"/workflow/{run_id}/events", params={"user": USER, "include_state_snapshot": "true"})
        assert raw.headers["cache-control"] == "no-cache"
        assert raw.text.startswith('data: {"event": "workflow_finished", "task_id": "' + run_id)
        assert raw.text.count("data: ") == 1 and "ping" not in raw.text
        assert c.get(f"/workflow/{run_id}/events", params={"user": "x"}).status_code == 404
        assert c.get(f"/workflow/{run_id}/events").json()["message"] == "Arg user must be provided."


def test_continue_on_pause_without_snapshot_never_closes(sim):
    """E05: workflow_finished arrives, and the server keeps pinging."""
    sim.ping_interval = 0.05
    with client(sim, "hi-wf") as c:
        run_id = start(c, "hi-wf", mode="blocking")["workflow_run_id"]
        token = sim.state.run_logs[run_id].forms[0].token
        listener = Listener(c, run_id, continue_on_pause=True)
        c.post(f"/form/human_input/{token}", json={"inputs": GOOD, "action": "approve", "user": USER})
        listener.wait_for("workflow_finished")
        events = listener.wait_for("ping", names(listener.events).count("ping") + 1)
        listener.closed.set()
        listener.join()  # the client leaves at the next ping
    assert names(events)[-1] == "ping"  # after workflow_finished: still open


def test_two_forms_in_a_row_with_one_listener(sim):
    with client(sim, "hi-wf-two") as c:
        run_id = start(c, "hi-wf-two", mode="blocking")["workflow_run_id"]
        log = sim.state.run_logs[run_id]
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        submit = {"inputs": GOOD, "action": "approve", "user": USER}
        c.post(f"/form/human_input/{log.forms[0].token}", json=submit)
        events = listener.wait_for("workflow_paused", 2)
        forms = [e["data"] for e in events if isinstance(e, dict) and e["event"] == "human_input_required"]
        second = forms[-1]
        assert second["node_id"] == "hi2"
        assert second["resolved_default_values"] == {"comment": "ship it"}  # E04: from form 1
        body = {"inputs": {"comment": "ok"}, "action": "ok", "user": USER}
        c.post(f"/form/human_input/{second['form_token']}", json=body)
        events = listener.join()
    assert names(events) == names(["ping", *captured_events("E08")])


def test_the_resumed_chat_stream_repeats_the_pre_pause_text_and_drops_the_rest(sim):
    """Fact 22 (C05/C10): the post-resume Answer reaches only workflow_finished.outputs.answer."""
    with client(sim, "hi-chat") as c:
        events = start(c, "hi-chat", "Berlin")
        run_id, conv = events[-1]["workflow_run_id"], events[-1]["conversation_id"]
        token = events[-1]["data"]["reasons"][0]["form_token"]
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        inputs = {"note": "ok from chat", "choice": "a", "ref": "CH-1"}
        body = {"inputs": inputs, "action": "approve", "user": USER}
        c.post(f"/form/human_input/{token}", json=body)
        events = listener.join()
        stored = c.get("/messages", params={"conversation_id": conv, "user": USER}).json()["data"][-1]
    assert names(events) == names(["ping", *captured_events("C05")])
    pre = "pre-pause: need approval @ Berlin. "
    replace = next(e for e in events if isinstance(e, dict) and e["event"] == "message_replace")
    assert replace["answer"] == pre
    resumed = "".join(e["answer"] for e in events if isinstance(e, dict) and e["event"] == "message")
    assert resumed == pre
    answer = events[-1]["data"]["outputs"]["answer"]
    assert answer == pre + "after-resume: city=Berlin note=ok from chat choice=a ref=CH-1 action=approve"
    assert stored["answer"] == pre + pre  # streaming origin (C10)


def test_the_plain_chatflow_streams_its_answer_after_the_resume(sim):
    with client(sim, "hi-chat-plain") as c:
        events = start(c, "hi-chat-plain", "Oslo")
        run_id, token = events[-1]["workflow_run_id"], events[-1]["data"]["reasons"][0]["form_token"]
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        body = {"inputs": {"note": "fine", "choice": "b", "ref": "OS-1"}, "action": "approve", "user": USER}
        c.post(f"/form/human_input/{token}", json=body)
        events = listener.join()
    assert names(events) == names(["ping", *captured_events("C21")])
    text = "".join(e["answer"] for e in events if isinstance(e, dict) and e["event"] == "message")
    assert text == events[-1]["data"]["outputs"]["answer"]


def test_stop_does_nothing_on_a_paused_run_until_the_submit(sim):
    """Fact 28 (X10–X16)."""
    with client(sim, "hi-wf") as c:
        body = start(c, "hi-wf", mode="blocking")
        run_id, task_id = body["workflow_run_id"], body["task_id"]
        token = body["data"]["reasons"][0]["form_token"]
        assert c.post(f"/workflows/tasks/{task_id}/stop", json={"user": USER}).json() == {"result": "success"}
        assert c.get(f"/workflows/run/{run_id}").json()["status"] == "paused"
        assert c.get(f"/form/human_input/{token}").status_code == 200
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        c.post(f"/form/human_input/{token}", json={"inputs": GOOD, "action": "approve", "user": USER})
        events = listener.join()
        assert events[-1]["data"]["status"] == "stopped" and events[-1]["data"]["error"] == "Stopped by user."
        assert c.get(f"/workflows/run/{run_id}").json()["status"] == "running"  # X16


def test_an_ill_typed_value_is_accepted_and_fails_the_resumed_run(sim):
    with client(sim, "hi-wf") as c:
        body = start(c, "hi-wf", mode="blocking")
        run_id, token = body["workflow_run_id"], body["data"]["reasons"][0]["form_token"]
        listener = Listener(c, run_id, continue_on_pause=False)
        bad = {"inputs": {**GOOD, "note": 123}, "action": "approve", "user": USER}
        assert c.post(f"/form/human_input/{token}", json=bad).json() == {}
        events = listener.join()
    assert names(events) == ["ping", "workflow_started", "node_started", "node_finished", "workflow_finished"]
    assert events[-1]["data"]["error"] == captured_body("A12")[1]["error"]


def test_the_history_keeps_a_paused_chat_turns_form_until_it_is_submitted(sim):
    """Fact 24 (C04, C10): extra_contents of type human_input, token dropped once submitted."""
    with client(sim, "hi-chat") as c:
        events = start(c, "hi-chat", "Berlin")
        conv, run_id = events[-1]["conversation_id"], events[-1]["workflow_run_id"]
        token = events[-1]["data"]["reasons"][0]["form_token"]
        params = {"conversation_id": conv, "user": USER}
        (paused,) = c.get("/messages", params=params).json()["data"]
        real = captured_body("C04")[1]["data"][0]
        assert list(paused) == list(real) and paused["status"] == "paused"
        (record,) = paused["extra_contents"]
        assert list(record) == list(real["extra_contents"][0])
        assert list(record["form_definition"]) == list(real["extra_contents"][0]["form_definition"])
        assert record["submitted"] is False and record["form_definition"]["form_token"] == token
        listener = Listener(c, run_id, include_state_snapshot=True, continue_on_pause=True)
        listener.wait_for("workflow_paused")
        c.post(f"/form/human_input/{token}", json={"inputs": GOOD, "action": "approve", "user": USER})
        listener.join()
        (done,) = c.get("/messages", params=params).json()["data"][0]["extra_contents"]
    assert done["submitted"] is True and done["form_definition"]["form_token"] is None
    assert done["form_submission_data"]["action_id"] == "approve"
