"""Dropped streams re-attached to their runs, over loopback against the simulator (sync and async).

The simulator's ``drop`` fault cuts the connection while the run goes on, and holds the run until
a listener re-attaches (difytui/sim/drops.py), so every case is the same however loaded the machine.
"""

from __future__ import annotations

import pytest

from difytui.client import ReconnectPolicy
from difytui.errors import DifyConnectionError, DifyDeadlineError

CHATFLOW = ("app.chat.invoke", "trip-planner", "plan a long day", {"city": "Lyon"})
WORKFLOW = ("app.workflow.invoke", "report-builder", {"topic": "Streaming", "audience": "engineers"})
CHAT = ("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
COMPLETION = ("app.completion.invoke", "copywriter", {"product_name": "difytui", "brief": "a console"})
RUN_PATHS = {"trip-planner": "/v1/chat-messages", "report-builder": "/v1/workflows/run"}
#: No waiting between tries: the simulator holds the run until the client is back.
QUICK = ReconnectPolicy(attempts=3, backoff=0.0)


def shape(events: list[dict]) -> list[tuple]:
    """What must be equal between two runs of the same app: ids and timings differ."""
    out = []
    for event in events:
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        text = event.get("answer") if "answer" in event else data.get("text")
        out.append((event.get("event"), data.get("node_id"), text, data.get("status")))
    return out


def text_of(events: list[dict]) -> str:
    return "".join(
        str(e.get("answer") or (e.get("data") or {}).get("text") or "")
        for e in events
        if e.get("event") in ("message", "text_chunk")
    )


def reattaches(sim) -> list:
    return [r for r in sim.requests if r.method == "GET" and r.path.startswith("/v1/workflow/")]


def streamed(api, call):
    """The events and the stream itself (for its ``reconnects``), read to the end."""
    name, app, *args = call
    stream = api.client.app.chat.invoke if name == "app.chat.invoke" else api.client.app.workflow.invoke
    if api.kind == "sync":
        events_stream = stream(app, *args)
        return list(events_stream), events_stream

    async def read():
        events_stream = stream(app, *args)
        return [event async for event in events_stream], events_stream

    return api.loop.run_until_complete(read())


@pytest.mark.parametrize(
    ("call", "after"),
    [
        (CHATFLOW, 3),  # answer text before any node event
        (CHATFLOW, 10),  # the LLM node has started
        (CHATFLOW, 100),  # after the LLM node finished, before message_end
        (WORKFLOW, 4),  # the End node's early text chunks
        (WORKFLOW, 14),  # inside the iteration
        (WORKFLOW, 60),  # the End node streaming
    ],
)
def test_a_dropped_run_goes_on_with_every_event_once(make_api, sim, call, after):
    api = make_api(reconnect=QUICK)
    uncut, _ = streamed(api, call)
    sim.add_fault(RUN_PATHS[call[1]], "drop", after=after)
    events, stream = streamed(api, call)
    assert shape(events) == shape(uncut)
    assert stream.reconnects == 1 and stream.reconciled_answer is None
    [request] = reattaches(sim)
    run_id = events[0]["workflow_run_id"]
    assert request.path == f"/v1/workflow/{run_id}/events"
    assert request.query == {"include_state_snapshot": "true", "user": "tester"}


def test_an_early_end_of_the_body_is_reattached_too(make_api, sim):
    api = make_api(reconnect=QUICK)
    uncut, _ = streamed(api, WORKFLOW)
    sim.add_fault("/v1/workflows/run", "drop", after=20, how="eof")
    events, stream = streamed(api, WORKFLOW)
    assert shape(events) == shape(uncut) and stream.reconnects == 1


def test_chatflow_text_lost_while_detached_is_reconciled_from_the_outputs(make_api, sim):
    api = make_api(reconnect=QUICK)
    sim.add_fault("/v1/chat-messages", "drop", after=20, gap=5)  # 5 answer pieces nobody hears
    events, stream = streamed(api, CHATFLOW)
    finished = events[-1]
    assert finished["event"] == "workflow_finished" and stream.reconnects == 1
    whole = finished["data"]["outputs"]["answer"]
    assert stream.reconciled_answer == whole and text_of(events) != whole
    assert len(text_of(events)) < len(whole)


def test_a_blocking_chatflow_folds_the_whole_answer_after_a_drop(make_api, sim):
    api = make_api(reconnect=QUICK)
    sim.add_fault("/v1/chat-messages", "drop", after=20, gap=5)
    result = api(*CHATFLOW, response_mode="blocking")
    history = sim.state.workflow_runs
    [run] = [run for run in history.values() if run.outputs]
    assert result["answer"] == run.outputs["answer"]
    assert result.reconnects == 1  # the caller can say so (the CLI does, on stderr)


def test_attempts_are_bounded_and_the_error_keeps_what_was_received(make_api, sim):
    api = make_api(reconnect=ReconnectPolicy(attempts=2, backoff=0.0))
    sim.add_fault("/v1/workflows/run", "drop", after=8, wait=0.0)
    for _ in range(2):
        sim.add_fault("/v1/workflow/", "status", status=503, body="<html>busy</html>")
    events, error = api.collect(*WORKFLOW)
    assert len(events) == 8
    assert isinstance(error, DifyConnectionError)
    message = str(error)
    assert "/v1/workflows/run" in message and "cut mid-stream" in message
    assert f"re-attaching to run {events[0]['workflow_run_id']} failed 2 times" in message
    assert "503" in message
    assert len(reattaches(sim)) == 2


def test_a_run_the_server_does_not_know_is_given_up_at_once(make_api, sim):
    api = make_api(reconnect=QUICK)
    sim.add_fault("/v1/workflows/run", "drop", after=8, wait=0.0)
    sim.add_fault(
        "/v1/workflow/",
        "status",
        status=404,
        body='{"code": "not_found", "message": "Workflow run not found", "status": 404}',
    )
    events, error = api.collect(*WORKFLOW)
    assert len(events) == 8 and isinstance(error, DifyConnectionError)
    assert "failed 1 time: Dify error 404 not_found: Workflow run not found" in str(error)
    assert len(reattaches(sim)) == 1


@pytest.mark.parametrize("call", [CHAT, COMPLETION], ids=["chat", "completion"])
def test_chat_and_completion_runs_are_not_reattached(make_api, sim, call):
    api = make_api(reconnect=QUICK)
    path = "/v1/chat-messages" if call is CHAT else "/v1/completion-messages"
    sim.add_fault(path, "drop", after=4, wait=0.0)
    events, error = api.collect(*call)
    assert len(events) == 4 and isinstance(error, DifyConnectionError)
    assert "re-attaching" not in str(error)
    assert not reattaches(sim)


class StillClock:
    """Time that never moves: the deadline passes only when a wait would reach it."""

    def now(self) -> float:
        return 1000.0

    def call_at(self, when, callback):
        return lambda: None

    async def within(self, awaitable, when):
        return await awaitable


def test_a_wait_that_would_outlast_the_deadline_stops_the_run_instead(make_api, sim):
    api = make_api(reconnect=ReconnectPolicy(backoff=20.0, max_delay=20.0), deadline=10.0, clock=StillClock())
    sim.add_fault("/v1/workflows/run", "drop", after=8)
    sim.add_fault("/v1/workflow/", "status", status=503)  # the first try, at once: then 20 s to wait
    events, error = api.collect(*WORKFLOW)
    assert len(events) == 8 and isinstance(error, DifyDeadlineError)
    assert error.stopped_task == events[0]["task_id"]
    assert len(reattaches(sim)) == 1
    assert [r.path for r in sim.requests if r.path.endswith("/stop")] == [
        f"/v1/workflows/tasks/{events[0]['task_id']}/stop"
    ]


@pytest.mark.parametrize("call", [CHATFLOW, WORKFLOW], ids=["chatflow", "workflow"])
def test_a_run_that_finished_meanwhile_ends_with_its_single_workflow_finished(make_api, sim, call):
    api = make_api(reconnect=QUICK)
    uncut, _ = streamed(api, call)
    sim.add_fault(RUN_PATHS[call[1]], "drop", after=10, gap="all")
    events, stream = streamed(api, call)
    assert shape(events[:10]) == shape(uncut[:10])
    assert [event["event"] for event in events[10:]] == ["workflow_finished"]
    finished = events[-1]
    assert finished["task_id"] == finished["workflow_run_id"]  # Dify's record, not the live event
    outputs = finished["data"]["outputs"]
    assert outputs == uncut[-1]["data"]["outputs"] and stream.reconnects == 1
    if call is CHATFLOW:  # the text after the cut never streamed: the outputs hold the whole answer
        assert stream.reconciled_answer == outputs["answer"] != text_of(events)
    else:
        assert stream.reconciled_answer is None


def test_an_account_workspace_run_re_attaches_after_a_drop(make_api, sim):
    """The account API re-attaches with /apps/<id>/tasks/<run_id>/events (issue 12's leftover: the
    account simulator had no events route, so a drop there gave up with a 404)."""
    from helpers import account_workspace, device_login

    login = device_login(sim)
    api = make_api(workspace=account_workspace(sim, login), token=login.token.reveal(), reconnect=QUICK)
    workflow = next(app.id for app in api("apps") if app.mode == "workflow")
    inputs = {"topic": "SSE", "audience": "everyone"}
    uncut = api("app.workflow.invoke", workflow, inputs, response_mode="blocking")
    sim.add_fault(f"/openapi/v1/apps/{workflow}/run", "drop", after=8)
    result = api("app.workflow.invoke", workflow, inputs, response_mode="blocking")
    assert result.reconnects == 1 and result["data"]["status"] == "succeeded"
    assert result["data"]["outputs"] == uncut["data"]["outputs"]
    events_path = f"/openapi/v1/apps/{workflow}/tasks/{result['workflow_run_id']}/events"
    assert [r.path for r in sim.requests if r.method == "GET" and r.path.endswith("/events")] == [events_path]
