"""The simulator behaves as a real Dify 1.14.2 did (issue 7, "the simulator drifts from real Dify").

Each test names the real behaviour: answer text before the Start node's events, ``index`` 1 on every
node, an early stop ending the stream ``failed`` while the run's record says ``stopped``, and the
account API's runs naming the account in ``created_by``. Stops land at a point the simulator holds
(the ``hold`` fault), so no test depends on the machine's speed.
"""

from __future__ import annotations

import json

import httpx
import pytest
from helpers import account_workspace, device_login

from difytui.client import Dify
from difytui.sim import Simulator
from difytui.sim.apps import DEMO_APPS

REPORT = {"topic": "SSE", "audience": "engineers", "sections": 3}
CITY = {"inputs": {"city": "Kyoto", "season": "spring"}, "query": "plan", "user": "u1"}


@pytest.fixture
def sim():
    with Simulator(token_delay=0.0) as s:
        yield s


def _client(sim: Simulator, app_id: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sim.api_keys[app_id]}"}
    return httpx.Client(base_url=sim.base_url, headers=headers, timeout=10)


def _stream(sim, app_id: str, path: str, body: dict, stop_after: int | None = None) -> list[dict]:
    """The data events of a streamed run; with ``stop_after``, the run is held after that many
    events and stopped there."""
    if stop_after is not None:
        sim.add_fault("/v1" + path, "hold", after=stop_after)
    events: list[dict] = []
    stop_path = "/workflows/tasks/{}/stop" if path == "/workflows/run" else "/chat-messages/{}/stop"
    with _client(sim, app_id) as c, c.stream("POST", path, json={**body, "response_mode": "streaming"}) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) == stop_after:
                    c.post(stop_path.format(events[0]["task_id"]), json={"user": body["user"]})
    return events


def _kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


def _first(events: list[dict], kind: str) -> int:
    return _kinds(events).index(kind)


# --- event order and indexes ---------------------------------------------------------------------


def test_workflow_text_chunks_arrive_before_the_start_nodes_events(sim):
    events = _stream(sim, "report-builder", "/workflows/run", {"inputs": REPORT, "user": "u1"})
    # As in wf_slow_streaming_stopped: workflow_started, text_chunk…, then node_started of Start.
    assert _kinds(events)[:2] == ["workflow_started", "text_chunk"]
    assert _first(events, "text_chunk") < _first(events, "node_started")
    text = "".join(e["data"]["text"] for e in events if e["event"] == "text_chunk")
    assert text == events[-1]["data"]["outputs"]["report"]


def test_chatflow_answer_arrives_before_the_start_nodes_events(sim):
    events = _stream(sim, "trip-planner", "/chat-messages", CITY)
    # As in run_chat_turn1: workflow_started, message…, then node_started of Start.
    assert _kinds(events)[:2] == ["workflow_started", "message"]
    assert _first(events, "message") < _first(events, "node_started")
    answer = "".join(e["answer"] for e in events if e["event"] == "message")
    assert answer.startswith("# Kyoto in spring\n\n")
    assert answer == events[-1]["data"]["outputs"]["answer"]
    assert _kinds(events)[-2:] == ["message_end", "workflow_finished"]


def test_every_node_has_index_1_inside_iterations_too(sim):
    events = _stream(sim, "report-builder", "/workflows/run", {"inputs": REPORT, "user": "u1"})
    nodes = [e["data"] for e in events if e["event"] in ("node_started", "node_finished")]
    assert any(n["iteration_id"] for n in nodes)  # the iteration's LLM nodes are among them
    assert {n["index"] for n in nodes} == {1}
    assert events[-1]["data"]["total_steps"] == len([n for n in nodes if "status" not in n])


# --- early and late stops ------------------------------------------------------------------------


def _run_record(sim, app_id: str, run_id: str) -> dict:
    with _client(sim, app_id) as c:
        return c.get(f"/workflows/run/{run_id}").json()


def test_an_early_workflow_stop_ends_the_stream_failed_but_the_record_says_stopped(sim):
    # Held after workflow_started and the first text_chunk: the engine has not started a node yet.
    events = _stream(sim, "report-builder", "/workflows/run", {"inputs": REPORT, "user": "u1"}, 2)
    finished = events[-1]
    assert finished["event"] == "workflow_finished"
    assert finished["data"]["status"] == "failed"
    assert finished["data"]["error"] == "Aborted: User requested stop"
    assert finished["data"]["outputs"] == {}
    assert "node_started" not in _kinds(events)
    record = _run_record(sim, "report-builder", finished["workflow_run_id"])
    assert record["status"] == "stopped"
    assert record["error"] == "Aborted: User requested stop"


def test_a_later_workflow_stop_ends_stopped(sim):
    whole = _stream(sim, "report-builder", "/workflows/run", {"inputs": REPORT, "user": "u1"})
    # Held right after the first node after Start started: the engine runs.
    plan = next(
        i for i, e in enumerate(whole) if e["event"] == "node_started" and e["data"]["node_id"] == "plan"
    )
    events = _stream(sim, "report-builder", "/workflows/run", {"inputs": REPORT, "user": "u1"}, plan + 1)
    finished = events[-1]["data"]
    assert (finished["status"], finished["error"], finished["outputs"]) == ("stopped", "Stopped by user.", {})
    record = _run_record(sim, "report-builder", finished["id"])
    assert (record["status"], record["error"]) == ("stopped", "Stopped by user.")


def test_an_early_chatflow_stop_ends_failed_without_message_end(sim):
    events = _stream(sim, "trip-planner", "/chat-messages", CITY, 3)
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["status"] == "failed"
    assert events[-1]["data"]["error"] == "Aborted: User requested stop"
    assert "message_end" not in _kinds(events)
    record = _run_record(sim, "trip-planner", events[-1]["workflow_run_id"])
    assert record["status"] == "stopped"
    # The partial answer is kept, as for any stop.
    with _client(sim, "trip-planner") as c:
        history = c.get("/messages", params={"user": "u1", "conversation_id": events[0]["conversation_id"]})
    partial = "".join(e["answer"] for e in events if e["event"] == "message")
    assert partial and history.json()["data"][0]["answer"] == partial


# --- the account API's runs name the account -----------------------------------------------------


def test_account_api_blocking_result_carries_created_by_exceptions_count_and_files(sim):
    login = device_login(sim)
    workspace = account_workspace(sim, login)
    report = DEMO_APPS["report-builder"]["uuid"]
    with Dify(workspace=workspace, token=login.token.reveal()) as dify:
        result = dify.app.workflow.invoke(report, REPORT, response_mode="blocking")
    data = result["data"]
    assert data["status"] == "succeeded"
    account = sim.directory.account
    # As in run_chat_turn1's workflow_finished: an account, not an end user.
    assert data["created_by"] == {"id": account["id"], "name": account["name"], "email": account["email"]}
    assert data["exceptions_count"] == 0 and data["files"] == []


# --- a client that leaves does not stop the run ----------------------------------------------------


def test_a_run_goes_on_after_its_client_left_and_a_stop_still_reaches_it(sim):
    """Closing the stream does not stop a Dify run; only the stop call does. (So a client that
    closes its stream before calling stop is never racing the server.)"""
    import time

    sim.token_delay = 0.05

    def wait(predicate, what):
        deadline = time.monotonic() + 10
        while not predicate():
            assert time.monotonic() < deadline, what
            time.sleep(0.01)

    with _client(sim, "report-builder") as c:
        body = {"inputs": REPORT, "user": "u1", "response_mode": "streaming"}
        with c.stream("POST", "/workflows/run", json=body) as r:
            first = json.loads(next(line for line in r.iter_lines() if line.startswith("data: "))[6:])
        task_id, run_id = first["task_id"], first["workflow_run_id"]
        wait(lambda: task_id not in sim.running_tasks, "the server saw the client leave")
        assert _run_record(sim, "report-builder", run_id)["status"] == "running"
        c.post(f"/workflows/tasks/{task_id}/stop", json={"user": "u1"})
        assert sim.stopped_tasks == [task_id]
        wait(lambda: _run_record(sim, "report-builder", run_id)["status"] != "running", "the run ended")
        assert _run_record(sim, "report-builder", run_id)["status"] == "stopped"
