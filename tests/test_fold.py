"""The fold of a stream into a blocking body, checked against Dify 1.14.2's real bodies (the events and
blocking answers below are trimmed from /work/shared/captures: human-input-history A01/A02, C01/C02,
service-api chat_streaming_turn2)."""

from __future__ import annotations

import pytest

from difytui import DifyAPIError
from difytui.fold import Folder

REASON = {"TYPE": "human_input_required", "form_id": "f-1", "node_id": "hi", "form_token": "tok"}
PAUSED_DATA = {
    "workflow_run_id": "run-1",
    "paused_nodes": ["hi"],
    "outputs": {},
    "reasons": [REASON],
    "status": "paused",
    "created_at": 1795995769,
    "elapsed_time": 0.08,
    "total_tokens": 0,
    "total_steps": 2,
}


def fold(mode: str, events: list[dict], *, exact: bool = True) -> dict:
    folder = Folder(mode, exact=exact)
    for event in events:
        folder.add(event)
    return folder.result()


def test_a_paused_workflow_folds_into_the_paused_blocking_body():
    started = {"event": "workflow_started", "task_id": "t-1", "workflow_run_id": "run-1"}
    started["data"] = {"id": "run-1", "workflow_id": "wf-1", "inputs": {}, "created_at": 1795995769}
    paused = {"event": "workflow_paused", "workflow_run_id": "run-1", "task_id": "t-1", "data": PAUSED_DATA}
    body = fold("workflow", [started, paused])
    # A02_hi-wf_blocking_run_paused: keys and order of the real blocking answer
    assert list(body) == ["task_id", "workflow_run_id", "data"]
    assert list(body["data"]) == [
        "id", "workflow_id", "status", "outputs", "error", "elapsed_time", "total_tokens",
        "total_steps", "created_at", "finished_at", "paused_nodes", "reasons",
    ]  # fmt: skip
    data = body["data"]
    assert (data["id"], data["workflow_id"], data["status"]) == ("run-1", "wf-1", "paused")
    assert data["finished_at"] is None
    assert data["reasons"] == [REASON] and body["task_id"] == "t-1"


def test_a_paused_chatflow_folds_into_the_paused_blocking_body():
    envelope = {"conversation_id": "c-1", "message_id": "m-1", "created_at": 1795995910, "task_id": "t-1"}
    events = [
        {"event": "workflow_started", **envelope, "workflow_run_id": "run-1", "data": {"id": "run-1"}},
        {"event": "message", **envelope, "id": "m-1", "answer": "pre-pause: "},
        {"event": "message", **envelope, "id": "m-1", "answer": "Berlin. "},
        {"event": "workflow_paused", **envelope, "workflow_run_id": "run-1", "data": PAUSED_DATA},
    ]
    body = fold("advanced-chat", events)
    # C02_hi-chat_blocking_paused
    assert list(body) == [
        "event", "task_id", "id", "message_id", "conversation_id", "mode", "answer", "metadata",
        "created_at", "workflow_run_id", "data",
    ]  # fmt: skip
    assert list(body["data"]) == [
        "id", "mode", "conversation_id", "message_id", "workflow_run_id", "answer", "metadata",
        "created_at", "paused_nodes", "reasons", "status", "elapsed_time", "total_tokens", "total_steps",
    ]  # fmt: skip
    assert body["event"] == "workflow_paused" and body["answer"] == "pre-pause: Berlin. "
    assert body["metadata"] == {"annotation_reply": None, "retriever_resources": [], "usage": None}
    assert body["data"]["status"] == "paused" and body["data"]["id"] == "m-1"


def test_the_service_apis_fold_keeps_only_the_blocking_keys_and_the_account_apis_keeps_all():
    data = {
        "id": "run-1", "workflow_id": "wf-1", "status": "succeeded", "outputs": {"a": 1}, "error": None,
        "elapsed_time": 0.02, "total_tokens": 0, "total_steps": 2, "created_by": {"id": "u"},
        "created_at": 1, "finished_at": 2, "exceptions_count": 0, "files": [],
    }  # fmt: skip
    finished = {"event": "workflow_finished", "task_id": "t-1", "workflow_run_id": "run-1", "data": data}
    service = fold("workflow", [finished])
    # B91_wf-echo_run_1: the blocking body has no created_by, exceptions_count or files
    assert list(service["data"]) == [
        "id", "workflow_id", "status", "outputs", "error", "elapsed_time", "total_tokens",
        "total_steps", "created_at", "finished_at",
    ]  # fmt: skip
    assert fold("workflow", [finished], exact=False)["data"] == data


def test_a_failed_chatflow_is_the_400_its_blocking_call_gets():
    finished = {"event": "workflow_finished", "task_id": "t-1", "conversation_id": "c-1", "message_id": "m-1"}
    finished["data"] = {"status": "failed", "error": "[Errno 111] Connection refused"}
    with pytest.raises(DifyAPIError) as caught:
        fold("advanced-chat", [finished])
    assert (caught.value.status, caught.value.code) == (400, "invalid_param")
    assert caught.value.message == "Run failed: [Errno 111] Connection refused"


def test_an_input_error_before_the_pipeline_is_the_400_its_blocking_call_gets():
    # chat_streaming_turn2_without_inputs: no code, no task id, status 500; blocking: 400 invalid_param
    error = {"event": "error", "message": "city is required in input form", "status": 500}
    with pytest.raises(DifyAPIError) as caught:
        fold("advanced-chat", [error])
    assert (caught.value.status, caught.value.code) == (400, "invalid_param")
    assert caught.value.message == "city is required in input form"


def test_a_generation_error_keeps_its_code_and_status():
    error = {"event": "error", "task_id": "t-1", "code": "completion_request_error", "status": 400}
    with pytest.raises(DifyAPIError) as caught:
        fold("chat", [{**error, "message": "Rate limit"}])
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        400,
        "completion_request_error",
        "Rate limit",
    )


@pytest.mark.parametrize("status", ["500", None, True, 99, [500]])
def test_an_error_events_odd_status_is_a_500(status):
    with pytest.raises(DifyAPIError) as caught:
        fold("chat", [{"event": "error", "task_id": "t-1", "code": "x", "status": status, "message": "m"}])
    assert caught.value.status == 500
