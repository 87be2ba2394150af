"""The simulator's account API (/openapi/v1) on the wire: device flow, errors, apps, describe, runs.

Expected bodies are the bytes of a real Dify 1.14.2 (captures/openapi/*.http) where they are static.
"""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from difytui.sim import DEMO_APPS, Simulator


@pytest.fixture
def sim():
    with Simulator(error_silence=0.4) as s:
        s.device_interval = 0.05
        yield s


def _poll(client: httpx.Client, device_code: str) -> httpx.Response:
    return client.post("/oauth/device/token", json={"device_code": device_code, "client_id": "difyctl"})


def _login(sim: Simulator) -> dict:
    """The whole device flow; returns the success body."""
    client = httpx.Client(base_url=sim.openapi_url, timeout=5)
    code = client.post("/oauth/device/code", json={"client_id": "difyctl", "device_label": "test"}).json()
    sim.approve_device(code["user_code"])
    return _poll(client, code["device_code"]).json()


@pytest.fixture
def grant(sim) -> dict:
    return _login(sim)


@pytest.fixture
def client(sim, grant) -> httpx.Client:
    return httpx.Client(
        base_url=sim.openapi_url, headers={"Authorization": f"Bearer {grant['token']}"}, timeout=5
    )


def _frames(body: bytes) -> list[bytes]:
    return [f for f in body.split(b"\n\n") if f]


def _events(body: bytes) -> list[dict]:
    return [json.loads(f[6:]) for f in _frames(body) if f.startswith(b"data: ")]


def _app(client: httpx.Client, grant: dict, name: str) -> dict:
    apps = client.get("/apps", params={"workspace_id": grant["default_workspace_id"]}).json()["data"]
    return next(a for a in apps if a["name"] == name)


# --- availability and the device flow -----------------------------------------------------------


def test_version_and_the_account_api_headers(sim):
    resp = httpx.get(sim.openapi_url + "/_version")
    assert resp.content == b'{"version":"1.14.2","edition":"SELF_HOSTED"}\n'
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert resp.headers["X-Version"] == "1.14.2"
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_a_server_without_openapi_answers_html_404_everywhere_under_it():
    with Simulator(openapi=False) as sim:
        for path in ("/_version", "/oauth/device/code", "/account"):
            resp = (
                httpx.post(sim.openapi_url + path) if "oauth" in path else httpx.get(sim.openapi_url + path)
            )
            assert resp.status_code == 404
            assert resp.headers["content-type"].startswith("text/html")
        assert httpx.get(sim.base_url + "/").status_code == 200  # the Service API is still there


def test_unknown_client_id_is_unsupported_client(sim):
    resp = httpx.post(
        sim.openapi_url + "/oauth/device/code", json={"client_id": "my-tui", "device_label": "capture-host"}
    )
    assert (resp.status_code, resp.content) == (400, b'{"error":"unsupported_client"}\n')
    sim.known_client_ids.add("my-tui")
    ok = httpx.post(sim.openapi_url + "/oauth/device/code", json={"client_id": "my-tui", "device_label": "x"})
    assert ok.status_code == 200


def test_device_flow_pending_slow_down_then_one_success(sim):
    client = httpx.Client(base_url=sim.openapi_url, timeout=5)
    code = client.post("/oauth/device/code", json={"client_id": "difyctl", "device_label": "capture-host"})
    body = code.json()
    assert set(body) == {"device_code", "user_code", "verification_uri", "expires_in", "interval"}
    assert body["device_code"].startswith("dc_") and len(body["device_code"]) == 35
    user_code = body["user_code"]
    assert len(user_code) == 9 and user_code[4] == "-" and user_code.replace("-", "").isupper()
    assert body["verification_uri"] == sim.console_url + "/device"
    assert (body["expires_in"], body["interval"]) == (900, 0.05)

    first = _poll(client, body["device_code"])
    assert (first.status_code, first.content) == (400, b'{"error":"authorization_pending"}\n')
    assert _poll(client, body["device_code"]).content == b'{"error":"slow_down"}\n'
    time.sleep(0.06)
    assert _poll(client, body["device_code"]).json() == {"error": "authorization_pending"}

    assert sim.approve_device() == user_code  # None: the newest pending code
    time.sleep(0.06)
    success = _poll(client, body["device_code"])
    assert success.status_code == 200
    grant = success.json()
    assert list(grant) == [
        "token", "expires_at", "subject_type", "account", "workspaces", "default_workspace_id", "token_id",
    ]  # fmt: skip
    assert grant["token"].startswith("dfoa_") and len(grant["token"]) == 48
    assert grant["expires_at"].endswith("+00:00") and grant["subject_type"] == "account"
    assert grant["account"]["email"] == sim.account_email
    assert [w["name"] for w in grant["workspaces"]] == ["Demo Workspace", "Staging"]
    time.sleep(0.06)
    assert _poll(client, body["device_code"]).json() == {"error": "expired_token"}  # collected once


def test_denied_once_then_expired_and_expired_codes(sim):
    client = httpx.Client(base_url=sim.openapi_url, timeout=5)
    denied = client.post("/oauth/device/code", json={"client_id": "difyctl", "device_label": "a"}).json()
    sim.deny_device(denied["user_code"].lower())  # user codes are case-insensitive
    assert _poll(client, denied["device_code"]).content == b'{"error":"access_denied"}\n'
    time.sleep(0.06)
    assert _poll(client, denied["device_code"]).json() == {"error": "expired_token"}

    late = client.post("/oauth/device/code", json={"client_id": "difyctl", "device_label": "b"}).json()
    sim.expire_devices()
    assert _poll(client, late["device_code"]).json() == {"error": "expired_token"}
    assert _poll(client, "dc_unknown").json() == {"error": "expired_token"}
    with pytest.raises(LookupError):
        sim.approve_device()


def test_a_signed_in_console_session_can_approve_over_http(sim):
    console = httpx.Client(base_url=sim.console_url, timeout=5)
    password = base64.b64encode(sim.account_password.encode()).decode()
    console.post("/console/api/login", json={"email": sim.account_email, "password": password})
    client = httpx.Client(base_url=sim.openapi_url, timeout=5)
    code = client.post("/oauth/device/code", json={"client_id": "difyctl", "device_label": "c"}).json()
    lookup = client.get("/oauth/device/lookup", params={"user_code": code["user_code"]}).json()
    assert lookup["valid"] is True and lookup["client_id"] == "difyctl"
    assert httpx.post(sim.openapi_url + "/oauth/device/approve", json={"user_code": "x"}).status_code == 401
    approved = console.post("/openapi/v1/oauth/device/approve", json={"user_code": code["user_code"]})
    assert approved.json() == {"status": "approved"}
    assert _poll(client, code["device_code"]).status_code == 200


# --- bearer errors --------------------------------------------------------------------------------


def test_missing_bearer_is_401_and_unknown_revoked_or_expired_tokens_are_500(sim, grant, client):
    bare = httpx.get(sim.openapi_url + "/account")
    assert (bare.status_code, bare.content) == (
        401,
        b'{"code":"unauthorized","message":"bearer required","status":401}\n',
    )
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    basic = httpx.get(sim.openapi_url + "/account", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401

    server_error = b'{"code":"internal_server_error","message":"Internal Server Error","status":500}\n'
    unknown = httpx.get(sim.openapi_url + "/account", headers={"Authorization": "Bearer dfoa_nope"})
    assert (unknown.status_code, unknown.content) == (500, server_error)
    app_key = {"Authorization": f"Bearer {sim.api_keys['support-bot']}"}
    assert httpx.get(sim.openapi_url + "/account", headers=app_key).status_code == 500

    assert client.get("/account").status_code == 200
    assert client.delete("/account/sessions/self").json() == {"status": "revoked"}
    assert client.get("/account").content == server_error

    fresh = _login(sim)
    assert sim.account_tokens == [fresh["token"]]
    sim.expire_tokens()
    expired = httpx.get(sim.openapi_url + "/account", headers={"Authorization": f"Bearer {fresh['token']}"})
    assert expired.status_code == 500


def test_rate_limit_answers_429_with_retry_after_once(sim, client):
    sim.openapi_rate_limit, sim.retry_after = 3, 7
    assert [client.get("/workspaces").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/workspaces")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.content == (
        b'{"code":"too_many_requests","message":"This user has exceeded an allotted request count. '
        b'Try again later.","status":429}\n'
    )
    assert client.get("/workspaces").status_code == 200
    sim.openapi_rate_limit = None


# --- identity and apps ----------------------------------------------------------------------------


def test_account_and_workspaces(sim, grant, client):
    account = client.get("/account").json()
    assert account["subject_email"] == sim.account_email and account["subject_issuer"] is None
    assert account["default_workspace_id"] == grant["default_workspace_id"]
    spaces = client.get("/workspaces").json()["workspaces"]
    assert [(w["name"], w["role"], w["current"]) for w in spaces] == [
        ("Demo Workspace", "owner", True),
        ("Staging", "admin", False),
    ]


def test_apps_need_a_workspace_and_list_only_api_enabled_apps(sim, grant, client):
    missing = client.get("/apps")
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "workspace not found", "status": 404}
    body = client.get("/apps", params={"workspace_id": grant["default_workspace_id"]}).json()
    names = [a["name"] for a in body["data"]]
    assert "Drafts Lab" not in names  # its Service API is off
    assert set(names) == {app["name"] for app in DEMO_APPS.values()} | {"FAQ Bot", "Release Notes"}
    assert set(body["data"][0]) == {
        "id", "name", "description", "mode", "tags", "updated_at",
        "created_by_name", "workspace_id", "workspace_name",
    }  # fmt: skip
    staging = next(w for w in grant["workspaces"] if w["name"] == "Staging")
    assert client.get("/apps", params={"workspace_id": staging["id"]}).json()["total"] == 2
    assert client.get("/apps", params={"workspace_id": staging["id"], "mode": "bogus"}).status_code == 422


def test_apps_paginate_with_has_more_under_the_page_size_cap(sim, grant, client):
    sim.max_page_size = 2
    ws = grant["default_workspace_id"]
    seen, page = [], 1
    while True:
        body = client.get("/apps", params={"workspace_id": ws, "page": page, "limit": 50}).json()
        assert body["limit"] == 2 and body["total"] == 9
        seen += [a["id"] for a in body["data"]]
        if not body["has_more"]:
            break
        page += 1
    assert page == 5 and len(set(seen)) == 9
    workflows = client.get("/apps", params={"workspace_id": ws, "mode": "workflow"}).json()
    names = {"Report Builder", "Release Notes", "Approval"}  # three: the first page (of two) has two
    assert workflows["total"] == 3 and {a["name"] for a in workflows["data"]} < names


def test_describe_matches_the_service_api_parameters(sim, grant, client):
    trip = DEMO_APPS["trip-planner"]
    body = client.get(f"/apps/{trip['uuid']}/describe").json()
    info = body["info"]
    assert (info["mode"], info["service_api_enabled"], info["is_agent"]) == ("advanced-chat", True, True)
    v1 = httpx.get(
        sim.base_url + "/parameters", headers={"Authorization": f"Bearer {sim.api_keys['trip-planner']}"}
    )
    assert body["parameters"] == v1.json()
    schema = body["input_schema"]
    assert schema["required"] == ["query", "inputs"]
    assert schema["properties"]["inputs"]["required"] == ["city"]
    assert schema["properties"]["inputs"]["properties"]["city"] == {
        "type": "string",
        "title": "City",
        "maxLength": 48,
    }
    report = client.get(f"/apps/{DEMO_APPS['report-builder']['uuid']}/describe?fields=info,input_schema")
    assert report.json()["parameters"] is None
    assert report.json()["input_schema"]["required"] == ["inputs"]
    assert client.get(f"/apps/{trip['uuid']}/describe?fields=nope").status_code == 422


def test_unknown_and_api_disabled_apps(sim, grant, client):
    unknown = client.post("/apps/00000000-0000-0000-0000-000000000000/run", json={"inputs": {"name": "x"}})
    assert (unknown.status_code, unknown.content) == (
        404,
        b'{"code":"not_found","message":"app not found","status":404}\n',
    )
    assert client.get("/apps/support-bot/describe").status_code == 404  # ids only, no names
    drafts = next(r for r in sim.directory.apps.values() if r.slug == "drafts-lab")
    for resp in (client.get(f"/apps/{drafts.uuid}/describe"), client.post(f"/apps/{drafts.uuid}/run")):
        assert resp.status_code == 403
        assert resp.json() == {"code": "forbidden", "message": "service_api_disabled", "status": 403}


# --- runs -----------------------------------------------------------------------------------------


def test_chat_run_streams_as_the_account_and_continues_a_conversation(sim, grant, client):
    trip = DEMO_APPS["trip-planner"]["uuid"]
    no_query = client.post(f"/apps/{trip}/run", json={"inputs": {"city": "Paris"}})
    assert (no_query.status_code, no_query.content) == (
        422,
        b'{"code":"invalid_param","message":"query_required_for_chat","status":422}\n',
    )
    first = client.post(f"/apps/{trip}/run", json={"inputs": {"city": "Paris"}, "query": "hello there"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert first.headers["X-Frame-Options"] == "DENY"
    assert _frames(first.content)[0] == b"event: ping"
    events = _events(first.content)
    assert [e["event"] for e in events][-2:] == ["message_end", "workflow_finished"]
    assert events[0]["data"]["inputs"]["sys.user_id"] == grant["account"]["id"]
    conversation = events[0]["conversation_id"]

    second = client.post(
        f"/apps/{trip}/run",
        json={"inputs": {"city": "Paris"}, "query": "second turn", "conversation_id": conversation},
    )
    turn2 = _events(second.content)
    assert turn2[0]["conversation_id"] == conversation
    assert turn2[0]["data"]["inputs"]["sys.dialogue_count"] == 2


def test_workflow_run_and_the_query_rule(sim, client):
    report = DEMO_APPS["report-builder"]["uuid"]
    inputs = {"topic": "SSE", "audience": "engineers", "sections": 2}
    with_query = client.post(f"/apps/{report}/run", json={"inputs": inputs, "query": "x"})
    assert with_query.status_code == 422
    assert with_query.json()["message"] == "query_not_supported_for_workflow"
    events = _events(client.post(f"/apps/{report}/run", json={"inputs": inputs}).content)
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("app", "payload", "message"),
    [
        ("report-builder", {"inputs": {"audience": "engineers"}}, "topic is required in input form"),
        (
            "trip-planner",
            {
                "inputs": {"city": "Paris"},
                "query": "hi",
                "conversation_id": "6227100d-44b3-414d-91fa-9e1b6615cb44",
            },
            "Conversation Not Exists.",
        ),
    ],
    ids=["missing-input", "unknown-conversation"],
)
def test_generation_errors_are_an_error_event_then_an_open_silent_stream(sim, client, app, payload, message):
    start = time.monotonic()
    with client.stream("POST", f"/apps/{DEMO_APPS[app]['uuid']}/run", json=payload) as resp:
        assert resp.status_code == 200
        chunks = iter(resp.iter_bytes())
        received = b""
        while b'"status":500}' not in received:
            received += next(chunks)
        error = {"event": "error", "message": message, "status": 500}
        assert (
            received == b"event: ping\n\ndata: " + json.dumps(error, separators=(",", ":")).encode() + b"\n\n"
        )
        assert list(chunks) == []  # nothing more until the server's idle timeout (error_silence)
    assert time.monotonic() - start >= 0.35


def test_stop_ends_a_running_stream(sim, client):
    sim.token_delay = 0.05
    report = DEMO_APPS["report-builder"]["uuid"]
    inputs = {"topic": "SSE", "audience": "engineers", "sections": 3}
    with client.stream("POST", f"/apps/{report}/run", json={"inputs": inputs}) as resp:
        events = []
        for line in resp.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                # The engine runs its first node after Start: a stop now ends it "stopped".
                if events[-1]["event"] == "node_started" and events[-1]["data"]["node_id"] == "plan":
                    stop = client.post(f"/apps/{report}/tasks/{events[0]['task_id']}/stop")
                    assert stop.json() == {"result": "success"}
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["status"] == "stopped"
    assert sim.stopped_tasks == [events[0]["task_id"]]
    assert client.post(f"/apps/{report}/tasks/made-up/stop").json() == {"result": "success"}


def test_upload_belongs_to_the_account_and_its_workspace(sim, grant, client):
    report = DEMO_APPS["report-builder"]["uuid"]
    resp = client.post(
        f"/apps/{report}/files/upload",
        files={"file": ("hello.txt", b"hello from openapi capture\n", "text/plain")},
    )
    assert resp.status_code == 201
    body = resp.json()
    assert (body["name"], body["size"], body["extension"], body["mime_type"]) == (
        "hello.txt",
        27,
        "txt",
        "text/plain",
    )
    assert body["created_by"] == grant["account"]["id"]
    assert body["tenant_id"] == grant["default_workspace_id"]
    assert client.post(f"/apps/{report}/files/upload", files={"other": ("a.txt", b"x")}).status_code == 400
