"""Account workspaces over the simulator's /openapi/v1: device-flow login, listing, runs, logout.

The client is the same ``Dify`` / ``AsyncDify`` as for Service API keys; only the backend differs.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time

import pytest
from helpers import account_workspace, device_login

from difytui import AppNotFoundError, DifyAPIError, DifyError
from difytui.account import AccountClient, LoginError
from difytui.cli import main
from difytui.config import load_config
from difytui.secrets import Secret


@pytest.fixture
def fast_device(sim):
    sim.device_interval = 0.05
    return sim


@pytest.fixture
def account(fast_device, make_api):
    """``make_api`` for the account workspace of a freshly logged-in token."""
    login = device_login(fast_device)
    token = login.token.reveal()
    workspace = account_workspace(fast_device, login)

    def make(**overrides):
        return make_api(workspace=workspace, token=overrides.pop("token", token), **overrides)

    make.token = token
    make.workspace = workspace
    return make


def app_id(api, mode: str) -> str:
    return next(app.id for app in api("apps") if app.mode == mode)


# -- device flow ---------------------------------------------------------------------------------


def test_device_flow_pending_then_slow_down_then_approved(fast_device):
    sim = fast_device
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            return  # poll again at once: the server says slow_down
        if len(slept) == 3:
            sim.approve_device()
        time.sleep(0.06)

    with AccountClient(sim.console_url) as client:
        code = client.request_code()
        assert code.user_code and code.verification_uri.endswith("/device")
        login = client.poll(code, sleep=sleep)
    assert slept == [0.05, 0.05, 5.05]  # slow_down adds 5 s to the interval
    assert login.token.reveal().startswith("dfoa_")
    assert "dfoa_" not in repr(login) and "dfoa_" not in str(login.token)


def test_device_flow_denied(fast_device):
    with AccountClient(fast_device.console_url) as client:
        code = client.request_code()
        fast_device.deny_device(code.user_code)
        with pytest.raises(LoginError) as caught:
            client.poll(code, sleep=lambda s: time.sleep(0.06))
    assert caught.value.reason == "access_denied" and "denied" in str(caught.value)


def test_device_flow_expired(fast_device):
    with AccountClient(fast_device.console_url) as client:
        code = client.request_code()
        fast_device.expire_devices()
        with pytest.raises(LoginError) as caught:
            client.poll(code, sleep=lambda s: time.sleep(0.06))
    assert caught.value.reason == "expired_token" and "run login again" in str(caught.value)


def test_unsupported_client_explains_known_client_ids(fast_device):
    with AccountClient(fast_device.console_url) as client, pytest.raises(LoginError) as caught:
        client.request_code("my-tui")
    assert "OPENAPI_KNOWN_CLIENT_IDS" in str(caught.value) and "--client-id" in str(caught.value)


def test_server_without_the_account_api_is_said_plainly():
    from difytui.sim import Simulator

    with (
        Simulator(openapi=False) as sim,
        AccountClient(sim.console_url) as client,
        pytest.raises(DifyError) as caught,
    ):
        client.version()
    assert "OPENAPI_ENABLED=true" in str(caught.value)


def test_cli_login_writes_an_account_workspace_and_keeps_the_token_private(
    fast_device, tmp_path, capsys, caplog
):
    sim = fast_device
    config = tmp_path / "config.toml"
    config.write_text('# my settings\n[keymap]\n"app.run" = "ctrl+r"\n')
    approver = threading.Thread(target=sim.approve_device_when_issued)
    approver.start()
    with caplog.at_level(logging.DEBUG):
        code = main(["login", "--server", sim.console_url, "--no-browser", "--config", str(config)])
    approver.join()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Logged in" in err and "enter the code" in err
    ws = load_config(config).workspace()
    assert ws.kind == "account" and ws.server == sim.console_url
    assert "# my settings" in config.read_text()
    token_file = tmp_path / "data" / "tokens.json"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    token = json.loads(token_file.read_text())["servers"][sim.console_url]["token"]
    for text in (out, err, caplog.text, config.read_text()):
        assert token not in text

    code = main(["--config", str(config), "apps", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    apps = json.loads(out)
    assert {app["interface"] for app in apps} == {"chat", "workflow", "completion"}
    assert token not in out + err

    code = main(["logout", "--server", sim.console_url])
    _out, err = capsys.readouterr()
    assert code == 0 and "Logged out" in err
    assert sim.console_url not in json.loads(token_file.read_text())["servers"]
    assert [r for r in sim.requests if r.method == "DELETE" and r.path.endswith("/account/sessions/self")]


# -- the account workspace behind the usual client --------------------------------------------------


def test_apps_are_listed_from_every_page_with_their_modes(account, fast_device):
    fast_device.max_page_size = 2
    api = account()
    apps = api("apps")
    assert len(apps) > 2 and all(app.error is None for app in apps)
    assert {app.interface for app in apps} == {"chat", "workflow", "completion"}
    listing = [r for r in fast_device.requests if r.path == "/openapi/v1/apps"]
    assert len(listing) >= 2 and {r.query["page"] for r in listing} >= {"1", "2"}


def test_parameters_come_from_describe(account):
    api = account()
    parameters = api("app.parameters", app_id(api, "advanced-chat"))
    assert "user_input_form" in parameters


def test_streamed_chat_and_a_follow_up_turn(account):
    api = account()
    chatflow = app_id(api, "advanced-chat")
    first = api("app.chat.invoke", chatflow, "hi", {"city": "Lyon"})
    assert first[-1]["event"] == "workflow_finished"
    conversation = first[-1]["conversation_id"]
    second = api("app.chat.invoke", chatflow, "more", {"city": "Lyon"}, conversation_id=conversation)
    assert {e["conversation_id"] for e in second} == {conversation}


def test_blocking_folds_the_stream_like_a_blocking_service_api_call(account):
    api = account()
    chat = api("app.chat.invoke", app_id(api, "chat"), "hi", {"product": "difytui"}, response_mode="blocking")
    assert chat["event"] == "message" and chat["answer"] and chat["conversation_id"]
    assert chat["id"] == chat["message_id"] and "usage" in chat["metadata"]
    flow = api(
        "app.workflow.invoke",
        app_id(api, "workflow"),
        {"topic": "x", "audience": "everyone"},
        response_mode="blocking",
    )
    assert flow["data"]["status"] == "succeeded" and flow["workflow_run_id"]


def test_error_event_then_silence_returns_promptly(account):
    api = account()
    started = time.monotonic()
    events = api("app.workflow.invoke", app_id(api, "workflow"), {"audience": "everyone"})
    assert time.monotonic() - started < 5
    assert events[-1]["event"] == "error" and "topic is required" in events[-1]["message"]


def test_unknown_conversation_is_an_in_stream_error_here(account):
    api = account()
    events = api(
        "app.chat.invoke",
        app_id(api, "advanced-chat"),
        "hi",
        {"city": "Lyon"},
        conversation_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    )
    assert events[-1]["event"] == "error"


def test_stop_goes_to_the_task_endpoint(account, fast_device):
    api = account()
    workflow = app_id(api, "workflow")
    assert api("app.stop", workflow, "task-1") == {"result": "success"}
    assert [r for r in fast_device.requests if r.path == f"/openapi/v1/apps/{workflow}/tasks/task-1/stop"]


def test_local_files_upload_to_the_apps_endpoint(account, fast_device, tmp_path):
    api = account()
    chatflow = app_id(api, "advanced-chat")
    photo = tmp_path / "a.png"
    photo.write_bytes(b"\x89PNG" + b"0" * 32)
    api("app.chat.invoke", chatflow, "look", {"city": "Lyon", "photo": photo})
    assert [r for r in fast_device.requests if r.path == f"/openapi/v1/apps/{chatflow}/files/upload"]


def test_an_app_outside_the_workspace_is_not_found(account):
    api = account()
    with pytest.raises(AppNotFoundError) as caught:
        api("app.parameters", "00000000-0000-0000-0000-000000000000")
    assert "'cloud'" in str(caught.value)


def test_history_is_shown_as_unavailable_not_failed(account):
    api = account()
    assert api.client.has_history is False
    with pytest.raises(DifyError, match="not available on an account workspace"):
        api("app.conversations", app_id(api, "chat"))
    for call, args in (
        ("app.conversations.rename", ("c", "name")),
        ("app.messages.suggested", ("m",)),
        ("app.workflow_runs.logs", ()),
    ):
        with pytest.raises(DifyError, match="not available on an account workspace"):
            api(call, app_id(api, "chat"), *args)


def test_a_revoked_token_answering_500_asks_to_log_in_again(account):
    bad = "dfoa_" + "x" * 43
    api = account(token=Secret(bad))
    with pytest.raises(DifyAPIError) as caught:
        api("apps")
    assert caught.value.code == "token_invalid" and "difytui login --server" in str(caught.value)
    assert "API key" not in str(caught.value)  # the Service API's hint does not apply here
    assert bad not in str(caught.value)


def test_reads_retry_after_429(account, fast_device):
    api = account()
    chat = app_id(api, "chat")
    fast_device.reset_rate_limits()
    fast_device.openapi_rate_limit = 1
    fast_device.retry_after = 0.2
    api("app.parameters", chat)  # the one request the window allows
    started = time.monotonic()
    assert "user_input_form" in api("app.parameters", chat)  # 429, wait Retry-After, retried
    assert time.monotonic() - started >= 0.2
    describes = [r for r in fast_device.requests if r.path == f"/openapi/v1/apps/{chat}/describe"]
    assert len(describes) == 3


def test_login_checks_the_config_can_be_written_before_the_browser_round_trip(fast_device, tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("")
    code = main(
        ["login", "--server", fast_device.console_url, "--no-browser", "--config", f"{blocked}/c.toml"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "c.toml" in err and "Traceback" not in err
    assert not [r for r in fast_device.requests if r.path.endswith("/oauth/device/code")]


def test_ctrl_c_while_waiting_for_approval_exits_130(fast_device, tmp_path, capsys, monkeypatch):
    from difytui import account

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(account.AccountClient, "poll", interrupted)
    code = main(
        ["login", "--server", fast_device.console_url, "--no-browser", "--config", str(tmp_path / "c.toml")]
    )
    err = capsys.readouterr().err
    assert code == 130 and "cancelled" in err and "Traceback" not in err
