"""The library against the simulator over real loopback HTTP, once with Dify and once with AsyncDify.

Each test pins one behaviour of real Dify 1.14.2 that the client must handle (protocol file, part A).
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from difytui import AppNotFoundError, ConfigError, DifyAPIError, DifyConnectionError, DifyError
from difytui.errors import DifyProtocolError
from difytui.reconnect import ReconnectPolicy

CHATFLOW_INPUTS = {"city": "Lyon"}
WORKFLOW_INPUTS = {"topic": "Streaming", "audience": "engineers"}
COMPLETION_INPUTS = {"product_name": "difytui", "brief": "a terminal console"}


def runs(sim, path: str) -> list:
    return [r for r in sim.requests if r.path == path]


def events_named(events: list[dict]) -> list[str]:
    return [event["event"] for event in events]


# -- streaming: pings and terminal events ---------------------------------------------------------


def test_workflow_stream_skips_pings_and_ends_on_workflow_finished(api):
    events = api("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS)
    names = events_named(events)
    assert "ping" not in names and all(isinstance(e, dict) for e in events)
    assert names[0] == "workflow_started"
    assert names[-1] == "workflow_finished"
    assert {"node_started", "node_finished", "text_chunk", "iteration_started"} <= set(names)


def test_pings_during_a_run_are_skipped_and_do_not_end_it(sim, make_api):
    sim.ping_interval = 0.01
    sim.token_delay = 0.004
    api = make_api()
    events = api("app.chat.invoke", "trip-planner", "plan a long day", CHATFLOW_INPUTS)
    assert "ping" not in events_named(events)
    assert events_named(events)[-2:] == ["message_end", "workflow_finished"]


def test_read_timeout_outlasts_difys_ten_second_pings(api):
    assert api.client.timeout.read >= 30


def test_chat_stream_ends_on_message_end(api):
    events = api("app.chat.invoke", "support-bot", "hello", {"product": "difytui"})
    assert events_named(events)[-1] == "message_end"
    assert events_named(events).count("message") > 3
    answer = "".join(e["answer"] for e in events if e["event"] == "message")
    assert "hello" in answer


def test_chatflow_sends_message_end_then_workflow_finished(api):
    events = api("app.chat.invoke", "trip-planner", "what to eat?", CHATFLOW_INPUTS)
    assert events_named(events)[-2:] == ["message_end", "workflow_finished"]
    assert events_named(events)[0] == "workflow_started"


def test_agent_streams_thoughts_and_agent_messages(api):
    events = api("app.chat.invoke", "travel-agent", "weekend in Kyoto", {"days": 2})
    names = events_named(events)
    assert "agent_thought" in names and "agent_message" in names
    assert names[-1] == "message_end"


def test_completion_streams_and_blocking_returns_the_dict(api):
    events = api("app.completion.invoke", "copywriter", COMPLETION_INPUTS)
    assert events_named(events)[-1] == "message_end"
    assert "conversation_id" not in events[0]
    result = api("app.completion.invoke", "copywriter", COMPLETION_INPUTS, response_mode="blocking")
    assert result["event"] == "message" and result["mode"] == "completion" and result["answer"]


def test_blocking_workflow_returns_the_result_dict(api):
    result = api("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS, response_mode="blocking")
    assert set(result) >= {"task_id", "workflow_run_id", "data"}
    assert result["data"]["status"] == "succeeded"


def test_error_event_is_yielded_then_the_stream_is_closed_promptly(api, sim):
    # A chatflow follow-up without its required inputs: 200, ping, an `error` event without `code`,
    # and then real Dify keeps the connection open and silent for 300 s.
    first = api("app.chat.invoke", "trip-planner", "hi", CHATFLOW_INPUTS)
    conversation = first[-1]["conversation_id"]
    started = time.monotonic()
    events = api("app.chat.invoke", "trip-planner", "again", {}, conversation_id=conversation)
    assert time.monotonic() - started < 5
    assert events == [{"event": "error", "message": "city is required in input form", "status": 500}]


def test_stop_ends_a_chatflow_with_workflow_finished_stopped_and_no_message_end(sim, make_api):
    sim.token_delay = 0.02
    api = make_api()
    seen: list[dict] = []
    stopped: list = []  # the stop is sent once, after the LLM's first token (the engine runs)
    stream = api.client.app.chat.invoke("trip-planner", "a long plan please", CHATFLOW_INPUTS)

    def consume():
        for event in stream:
            seen.append(event)
            if event.get("from_variable_selector") == ["llm", "text"] and not stopped:
                stopped.append(api.client.app.stop("trip-planner", event["task_id"]))

    if api.kind == "sync":
        consume()
    else:

        async def aconsume():
            async for event in stream:
                seen.append(event)
                if event.get("from_variable_selector") == ["llm", "text"] and not stopped:
                    stopped.append(True)
                    assert await api.client.app.stop("trip-planner", event["task_id"]) == {
                        "result": "success"
                    }

        api.loop.run_until_complete(aconsume())
    assert seen[-1]["event"] == "workflow_finished"
    assert seen[-1]["data"]["status"] == "stopped"
    assert "message_end" not in events_named(seen)
    assert len(runs(sim, "/v1/chat-messages/" + seen[-1]["task_id"] + "/stop")) == 1


def test_stop_routes_to_the_apps_interface_and_dify_always_answers_success(api, sim):
    assert api("app.stop", "report-builder", "made-up-task") == {"result": "success"}
    assert api("app.stop", "copywriter", "made-up-task") == {"result": "success"}
    assert runs(sim, "/v1/workflows/tasks/made-up-task/stop")
    assert runs(sim, "/v1/completion-messages/made-up-task/stop")
    assert runs(sim, "/v1/workflows/tasks/made-up-task/stop")[0].json == {"user": "tester"}


def test_frames_cut_at_any_byte_still_give_the_same_events(make_api):
    from difytui.sim import Simulator

    plain = make_api()
    expected = plain("app.chat.invoke", "trip-planner", "日本 café ☕", CHATFLOW_INPUTS)
    with Simulator(token_delay=0.0, chunk_seed=7) as choppy:
        api = make_api(base_url=choppy.base_url)
        got = api("app.chat.invoke", "trip-planner", "日本 café ☕", CHATFLOW_INPUTS)
    strip = ("conversation_id", "message_id", "task_id", "workflow_run_id", "id", "created_at", "data")
    assert [{k: v for k, v in e.items() if k not in strip} for e in got] == [
        {k: v for k, v in e.items() if k not in strip} for e in expected
    ]


# -- errors -------------------------------------------------------------------------------------


def test_wrong_key_is_a_401_api_error_that_says_to_check_the_key(make_api, sim):
    api = make_api(apps={"support-bot": "app-notarealkey0000000000000"})
    with pytest.raises(DifyAPIError) as caught:
        api("app.parameters", "support-bot")
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    assert caught.value.message == "Access token is invalid"
    assert "check the app's API key" in str(caught.value)
    assert "notarealkey" not in str(caught.value)


def test_validation_error_in_blocking_mode_is_a_400_with_difys_message(api):
    with pytest.raises(DifyAPIError) as caught:
        api("app.workflow.invoke", "report-builder", {"audience": "engineers"}, response_mode="blocking")
    assert (caught.value.status, caught.value.code) == (400, "invalid_param")
    assert caught.value.message == "topic is required in input form"


def test_html_error_page_from_a_proxy_is_an_api_error_with_an_excerpt(api, sim):
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    )
    sim.add_fault("/v1/chat-messages", "status", status=502, body=page, content_type="text/html")
    with pytest.raises(DifyAPIError) as caught:
        api("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert caught.value.status == 502 and caught.value.code == ""
    assert "502 Bad Gateway" in caught.value.message and "<" not in caught.value.message


def test_difys_html_routing_404_is_an_api_error(make_api, sim):
    api = make_api(base_url=sim.base_url.replace("/v1", "/v2"))
    with pytest.raises(DifyAPIError) as caught:
        api("app.parameters", "support-bot")
    assert caught.value.status == 404 and "Not Found" in caught.value.message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_names_the_url(make_api):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    api = make_api(base_url=url)
    with pytest.raises(DifyConnectionError) as caught:
        api("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert url in str(caught.value)


def test_dns_failure_is_a_connection_error(make_api):
    api = make_api(base_url="http://no-such-host.invalid/v1")
    with pytest.raises(DifyConnectionError) as caught:
        api("app.parameters", "support-bot")
    assert "no-such-host.invalid" in str(caught.value)


def test_read_timeout_is_a_connection_error(sim, make_api):
    sim.token_delay = 0.5
    api = make_api(timeout=0.2)
    _events, error = api.collect("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert isinstance(error, DifyConnectionError)
    assert "timed out" in str(error) and sim.base_url in str(error)


def test_connection_cut_mid_stream_keeps_the_events_already_received(api, sim):
    sim.add_fault("/v1/chat-messages", "cut", after=4)
    events, error = api.collect("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert len(events) == 4
    assert isinstance(error, DifyConnectionError) and "/v1/chat-messages" in str(error)


def test_clean_eof_before_the_terminal_event_is_a_connection_error(make_api, sim):
    api = make_api(reconnect=ReconnectPolicy(attempts=0))  # not re-attached: the cut itself
    sim.add_fault("/v1/workflows/run", "eof", after=3)
    events, error = api.collect("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS)
    assert len(events) == 3
    assert isinstance(error, DifyConnectionError) and "before the run finished" in str(error)


def test_malformed_event_is_a_protocol_error_after_the_good_ones(api, sim):
    sim.add_fault("/v1/chat-messages", "malformed", after=2)
    events, error = api.collect("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert len(events) == 2
    assert isinstance(error, DifyProtocolError) and "malformed event" in str(error)


def test_wrong_interface_is_refused_before_any_run_request(api, sim):
    with pytest.raises(DifyError) as caught:
        api("app.workflow.invoke", "support-bot", {})
    assert "app.chat.invoke()" in str(caught.value)
    assert not runs(sim, "/v1/workflows/run") and not runs(sim, "/v1/chat-messages")


def test_unknown_app_names_the_workspace_and_its_apps_without_any_request(api, sim):
    with pytest.raises(AppNotFoundError) as caught:
        api("app.chat.invoke", "not-mine", "hi", {})
    message = str(caught.value)
    assert "'default'" in message and "support-bot" in message and "trip-planner" in message
    assert sim.requests == []


# -- retries ------------------------------------------------------------------------------------


def test_reads_are_retried_on_503(api, sim):
    sim.add_fault("/v1/parameters", "status", status=503, body="busy", content_type="text/plain")
    assert "user_input_form" in api("app.parameters", "support-bot")
    assert len(runs(sim, "/v1/parameters")) == 2


def test_reads_honour_retry_after_on_429(api, sim):
    body = '{"code":"too_many_requests","message":"slow down","status":429}'
    sim.add_fault("/v1/info", "status", status=429, body=body, headers={"Retry-After": "0.3"})
    started = time.monotonic()
    assert api("app.info", "copywriter")["mode"] == "completion"
    assert time.monotonic() - started >= 0.3
    assert len(runs(sim, "/v1/info")) == 2


def test_reads_give_up_after_a_few_tries(api, sim):
    for _ in range(5):
        sim.add_fault("/v1/parameters", "status", status=502, body="down", content_type="text/plain")
    with pytest.raises(DifyAPIError):
        api("app.parameters", "support-bot")
    assert len(runs(sim, "/v1/parameters")) == 3


def test_runs_are_never_retried(api, sim):
    sim.add_fault("/v1/chat-messages", "status", status=503, body="busy", content_type="text/plain")
    with pytest.raises(DifyAPIError):
        api("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert len(runs(sim, "/v1/chat-messages")) == 1


# -- what is sent -------------------------------------------------------------------------------


def test_user_goes_with_every_call_and_inputs_always_go(api, sim):
    api("app.parameters", "copywriter")
    api("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS)
    api("app.chat.invoke", "travel-agent", "hi", None)  # no inputs: {} is still sent
    for request in sim.requests:
        where = request.json if request.method == "POST" else request.query
        assert where.get("user") == "tester", request.path
    chat = runs(sim, "/v1/chat-messages")[-1]
    assert chat.json["inputs"] == {} and chat.json["response_mode"] == "streaming"


def test_info_is_fetched_once_per_client(api, sim):
    api("app.chat.invoke", "support-bot", "one", {"product": "difytui"})
    api("app.chat.invoke", "support-bot", "two", {"product": "difytui"})
    assert len(runs(sim, "/v1/info")) == 1


def test_unknown_conversation_on_a_chatflow_silently_starts_a_new_one(api):
    unknown = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    events = api("app.chat.invoke", "trip-planner", "hi", CHATFLOW_INPUTS, conversation_id=unknown)
    assert events[-1]["event"] == "workflow_finished"
    assert {e["conversation_id"] for e in events} - {unknown} and all(
        e["conversation_id"] != unknown for e in events
    )


def test_follow_up_turn_keeps_the_conversation(api):
    first = api("app.chat.invoke", "trip-planner", "hi", CHATFLOW_INPUTS)
    conversation = first[0]["conversation_id"]
    second = api("app.chat.invoke", "trip-planner", "more", CHATFLOW_INPUTS, conversation_id=conversation)
    assert {e["conversation_id"] for e in second} == {conversation}
    history = api("app.messages", "trip-planner", conversation)
    assert [m["query"] for m in history["data"]] == ["hi", "more"]


def test_local_file_is_uploaded_first_and_sent_by_id(api, sim, tmp_path):
    photo = tmp_path / "kyoto.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    api("app.chat.invoke", "trip-planner", "look", {**CHATFLOW_INPUTS, "photo": photo}, files=[str(photo)])
    uploads = runs(sim, "/v1/files/upload")
    assert len(uploads) == 2
    body = runs(sim, "/v1/chat-messages")[-1].json
    assert body["inputs"]["photo"]["transfer_method"] == "local_file"
    assert body["inputs"]["photo"]["type"] == "image"
    assert body["files"][0]["upload_file_id"]


def test_urls_become_remote_files_and_dicts_pass_through(api, sim):
    given = {"type": "image", "transfer_method": "remote_url", "url": "https://example.com/b.png"}
    api(
        "app.chat.invoke",
        "trip-planner",
        "look",
        CHATFLOW_INPUTS,
        files=["https://example.com/a.jpg", given],
    )
    files = runs(sim, "/v1/chat-messages")[-1].json["files"]
    assert files[0] == {"type": "image", "transfer_method": "remote_url", "url": "https://example.com/a.jpg"}
    assert files[1] == given
    assert not runs(sim, "/v1/files/upload")


def test_missing_local_file_is_a_clear_error_before_the_run(api, sim):
    with pytest.raises(DifyError) as caught:
        api("app.chat.invoke", "trip-planner", "x", CHATFLOW_INPUTS, files=[str(Path("/no/such.png"))])
    assert "no such file" in str(caught.value)
    assert not runs(sim, "/v1/chat-messages")


def test_apps_lists_the_workspace_with_modes_and_interfaces(api):
    apps = {app.id: app for app in api("apps")}
    assert apps["support-bot"].interface == "chat" and apps["support-bot"].mode == "chat"
    assert apps["trip-planner"].mode == "advanced-chat" and apps["trip-planner"].interface == "chat"
    assert apps["report-builder"].interface == "workflow"
    assert apps["copywriter"].interface == "completion"
    assert apps["support-bot"].name == "Support Bot"


def test_an_app_whose_info_fails_is_listed_with_its_error(make_api, sim):
    api = make_api(
        apps={"support-bot": sim.api_keys["support-bot"], "broken": "app-wrongwrongwrongwrong0000"}
    )
    apps = {app.id: app for app in api("apps")}
    assert apps["support-bot"].interface == "chat"
    assert apps["broken"].interface is None and "401" in apps["broken"].error


def test_error_event_with_a_code_is_yielded_as_sent_and_ends_the_stream(api, sim):
    sim.add_fault(
        "/v1/chat-messages", "error", after=3, code="completion_request_error", message="Rate limit"
    )
    events, error = api.collect("app.chat.invoke", "support-bot", "hi", {"product": "difytui"})
    assert error is None and len(events) == 4
    last = events[-1]
    assert (last["event"], last["code"], last["message"], last["status"]) == (
        "error",
        "completion_request_error",
        "Rate limit",
        400,
    )
    assert last["conversation_id"] == events[0]["conversation_id"]


def test_workflow_paused_ends_the_stream(api, sim):
    sim.add_fault("/v1/workflows/run", "pause", after=4)
    events, error = api.collect("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS)
    assert error is None
    assert events_named(events)[-2:] == ["human_input_required", "workflow_paused"]
    assert events[-1]["data"]["status"] == "paused"


def test_a_key_that_cannot_be_sent_is_a_config_error_that_does_not_show_it(make_api, sim):
    api = make_api(apps={"support-bot": "app-SECRETSECRET\nlogin: me"})
    with pytest.raises(ConfigError) as caught:
        api("app.parameters", "support-bot")
    assert "SECRET" not in str(caught.value) and "line break" in str(caught.value)
    assert sim.requests == []


def test_json_that_is_not_an_object_is_a_protocol_error(api, sim):
    sim.add_fault("/v1/parameters", "status", status=200, body="[1, 2]", content_type="application/json")
    with pytest.raises(DifyProtocolError, match="JSON list, not the JSON object"):
        api("app.parameters", "support-bot")


def test_a_dead_server_is_reported_once_for_the_whole_app_list(make_api):
    api = make_api(base_url=f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(DifyConnectionError, match="cannot connect"):
        api("apps")


def test_a_dead_server_reads_the_same_from_both_clients(make_api):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    api = make_api(base_url=url)
    with pytest.raises(DifyConnectionError) as caught:
        api("apps")
    # httpx's async transport alone would say "All connection attempts failed"
    assert str(caught.value).endswith("connection refused (is the server running on that port?)")
    assert url in str(caught.value)


def test_timeouts_are_not_retried_but_refused_connections_are():
    from difytui._http import retry_delay

    timed_out = DifyConnectionError("timed out waiting for http://x/v1/info")
    timed_out.timed_out = True
    assert retry_delay(timed_out, 1) is None
    assert retry_delay(DifyConnectionError("cannot connect to http://x/v1/info"), 1) == 0.25


def _hold_answers(sim, path: str, until: int, fallback: float = 2.0) -> list[int]:
    """The simulator answers no ``path`` request before ``until`` of them have arrived (or after
    ``fallback`` seconds). Returns, per answer, how many had arrived when it was released."""
    server, released = sim._server, []
    respond = server._respond

    async def held(req, reader, writer):
        if req.path == path:
            deadline = asyncio.get_running_loop().time() + fallback
            while len(runs(sim, path)) < until and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.005)
            released.append(len(runs(sim, path)))
        return await respond(req, reader, writer)

    server._respond = held
    return released


def test_the_app_list_asks_every_apps_info_at_once_with_asyncdify(make_api, sim):
    api = make_api()
    if api.kind == "async":
        released = _hold_answers(sim, "/v1/info", until=7)
        apps = api("apps")
        assert len(apps) == 7 and all(app.error is None for app in apps)
        assert released == [7] * 7  # all seven were asked before the first was answered
        return
    for _ in range(7):
        sim.add_fault("/v1/info", "delay", seconds=0.4)
    apps = api("apps")
    assert len(apps) == 7 and all(app.error is None for app in apps)
    arrivals = sorted(r.received_at for r in runs(sim, "/v1/info"))
    assert arrivals[-1] - arrivals[0] >= 6 * 0.4 * 0.9  # the blocking client asks one after the other


# -- blocking runs stream under the hood, so there is always a task id to stop (issue 7) -------------


def _real_blocking_body(sim, app_id: str, path: str, body: dict) -> dict:
    """What the server answers a real blocking request (the sim's bodies follow Dify 1.14.2's captures)."""
    import httpx

    payload = {**body, "response_mode": "blocking", "user": "tester"}
    headers = {"Authorization": f"Bearer {sim.api_keys[app_id]}"}
    return httpx.post(sim.base_url + path, json=payload, headers=headers, timeout=30).json()


@pytest.mark.parametrize(
    ("interface", "app_id", "path", "args"),
    [
        ("chat", "support-bot", "/chat-messages", {"query": "hi", "inputs": {"product": "difytui"}}),
        ("chat", "trip-planner", "/chat-messages", {"query": "hi", "inputs": CHATFLOW_INPUTS}),
        ("completion", "copywriter", "/completion-messages", {"inputs": COMPLETION_INPUTS}),
        ("workflow", "report-builder", "/workflows/run", {"inputs": WORKFLOW_INPUTS}),
    ],
)
def test_a_blocking_run_streams_and_folds_into_the_blocking_body(api, sim, interface, app_id, path, args):
    real = _real_blocking_body(sim, app_id, path, args)
    if interface == "chat":
        got = api("app.chat.invoke", app_id, args["query"], args["inputs"], response_mode="blocking")
    else:
        got = api(f"app.{interface}.invoke", app_id, args["inputs"], response_mode="blocking")
    assert runs(sim, "/v1" + path)[-1].json["response_mode"] == "streaming"
    assert list(got) == list(real)  # the same keys, in Dify's order
    for nested in ("data", "metadata"):
        if nested in real:
            assert list(got[nested]) == list(real[nested])
    if interface == "workflow":
        assert got["data"]["outputs"] == real["data"]["outputs"] and got["data"]["status"] == "succeeded"
    else:
        assert got["answer"] == real["answer"] and got["mode"] == real["mode"]


def test_agent_apps_still_refuse_blocking_as_dify_does(api):
    with pytest.raises(DifyAPIError) as caught:
        api("app.chat.invoke", "travel-agent", "hi", {"days": 2}, response_mode="blocking")
    assert caught.value.status == 400 and "does not support blocking mode" in caught.value.message


def test_a_blocking_run_that_times_out_is_stopped_on_the_server(sim, make_api):
    # The run is held after its first event (which names its task) until it is stopped: only the
    # next read can time out. The short timeout is the run's alone, set once the app's /info is
    # read: a slow machine cannot make an earlier read time out, before there is a task to stop.
    sim.add_fault("/v1/chat-messages", "hold", after=1)
    api = make_api()
    api("app.info", "support-bot")
    api.client.set_read_timeout(0.5)
    with pytest.raises(DifyConnectionError, match="timed out") as caught:
        api("app.chat.invoke", "support-bot", "hi", {"product": "difytui"}, response_mode="blocking")
    assert caught.value.stopped_task and sim.stopped_tasks == [caught.value.stopped_task]


def test_ctrl_c_in_a_blocking_run_stops_it_on_the_server(sim, make_api, monkeypatch):
    import asyncio
    import signal

    from difytui import RunInterrupted, fold

    sim.token_delay = 0.05
    api = make_api()
    real_add = fold.Folder.add

    def add_then_interrupt(self, event):
        real_add(self, event)
        if self.task_id:  # Ctrl+C once Dify has named the task
            if api.kind == "sync":
                signal.raise_signal(signal.SIGINT)
            else:
                asyncio.current_task().cancel()  # asyncio.run turns Ctrl+C into this

    monkeypatch.setattr(fold.Folder, "add", add_then_interrupt)
    expected = RunInterrupted if api.kind == "sync" else asyncio.CancelledError
    with pytest.raises(expected) as caught:
        api("app.workflow.invoke", "report-builder", WORKFLOW_INPUTS, response_mode="blocking")
    assert len(sim.stopped_tasks) == 1
    if api.kind == "sync":
        assert caught.value.task_id == sim.stopped_tasks[0] and caught.value.stopped
