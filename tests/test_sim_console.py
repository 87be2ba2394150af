"""The simulator's console API (/console/api) on the wire: login, CSRF, workspaces, apps, API keys."""

from __future__ import annotations

import base64

import httpx
import pytest

from difytui.sim import DEMO_APPS, Simulator


@pytest.fixture
def sim():
    with Simulator() as s:
        yield s


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _login(sim: Simulator) -> httpx.Client:
    """A logged-in client that echoes the csrf_token cookie on every call, as a browser page does."""
    client = httpx.Client(base_url=sim.console_url + "/console/api", timeout=5)
    body = {"email": sim.account_email, "password": _b64(sim.account_password)}
    resp = client.post("/login", json={**body, "remember_me": True, "invite_token": None})
    assert resp.status_code == 200 and resp.json() == {"result": "success"}
    client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
    return client


def _key(client: httpx.Client, app_id: str) -> str:
    return client.post(f"/apps/{app_id}/api-keys").json()["token"]


def test_login_sets_three_lax_cookies_and_the_session_cookies_are_http_only(sim):
    resp = httpx.post(
        sim.console_url + "/console/api/login",
        json={"email": sim.account_email, "password": _b64(sim.account_password), "remember_me": True},
    )
    assert resp.status_code == 200
    cookies = {c.split("=", 1)[0]: c for c in resp.headers.get_list("set-cookie")}
    assert set(cookies) == {"access_token", "refresh_token", "csrf_token"}
    assert all("Path=/" in c and "SameSite=Lax" in c for c in cookies.values())
    assert "HttpOnly" in cookies["access_token"] and "HttpOnly" in cookies["refresh_token"]
    assert "HttpOnly" not in cookies["csrf_token"]


@pytest.mark.parametrize(
    "password", ["difytui-demo", _b64("wrong"), "%%%"], ids=["plain", "wrong", "not-base64"]
)
def test_a_plain_or_wrong_password_is_authentication_failed(sim, password):
    resp = httpx.post(
        sim.console_url + "/console/api/login", json={"email": sim.account_email, "password": password}
    )
    assert resp.status_code == 401
    assert resp.json() == {
        "code": "authentication_failed",
        "message": "Invalid email or password.",
        "status": 401,
    }
    assert "set-cookie" not in resp.headers


def test_every_call_needs_the_session_and_a_matching_csrf_header(sim):
    anonymous = httpx.get(sim.console_url + "/console/api/apps")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"code": "unauthorized", "message": "Unauthorized."}

    client = _login(sim)
    for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "forged"}):
        resp = client.get("/apps", headers=headers)
        assert resp.status_code == 401
        assert resp.json() == {
            "code": "unauthorized",
            "message": "CSRF token is missing or invalid.",
            "status": 401,
        }
    assert client.get("/apps").status_code == 200
    assert [r.csrf_ok for r in sim.console_requests] == [False, None, False, False, True]
    assert sim.console_requests[-1].headers["x-csrf-token"] == client.cookies["csrf_token"]


def test_logout_ends_the_session(sim):
    client = _login(sim)
    assert client.post("/logout").json() == {"result": "success"}
    client.cookies.clear()
    stale = _login(sim).cookies  # a new session works; the old cookie no longer does
    assert client.get("/workspaces").status_code == 401
    assert stale


def test_workspaces_and_switching_changes_the_app_list(sim):
    client = _login(sim)
    spaces = client.get("/workspaces").json()["workspaces"]
    assert [(w["name"], w["current"]) for w in spaces] == [("Demo Workspace", True), ("Staging", False)]
    assert set(spaces[0]) == {"id", "name", "plan", "status", "created_at", "current"}
    demo_ids = {a["id"] for a in client.get("/apps").json()["data"]}
    assert {app["uuid"] for app in DEMO_APPS.values()} < demo_ids

    switched = client.post("/workspaces/switch", json={"tenant_id": spaces[1]["id"]}).json()
    assert switched["result"] == "success" and switched["new_tenant"]["name"] == "Staging"
    staging = client.get("/apps").json()
    assert staging["total"] == 2 and not demo_ids & {a["id"] for a in staging["data"]}
    # An app of the other workspace is "not found" now.
    other = next(iter(demo_ids))
    assert client.get(f"/apps/{other}/api-keys").status_code == 404
    assert client.get(f"/apps/{other}/api-keys").json() == {"message": "App not found."}
    assert client.post("/workspaces/switch", json={"tenant_id": "nope"}).status_code == 400


def test_app_list_is_newest_first_and_paginates_with_the_page_size_cap(sim):
    client = _login(sim)
    full = client.get("/apps", params={"page": 1, "limit": 100}).json()
    assert full["total"] == 10 and full["has_more"] is False
    stamps = [a["created_at"] for a in full["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {"id", "name", "description", "mode", "icon", "icon_type", "created_at", "tags"} <= set(
        full["data"][0]
    )

    sim.max_page_size = 3
    pages, page = [], 1
    while True:
        body = client.get("/apps", params={"page": page, "limit": 20}).json()
        assert body["limit"] == 3 and len(body["data"]) <= 3
        pages.append(body)
        if not body["has_more"]:
            break
        page += 1
    assert len(pages) == 4
    assert [a["id"] for p in pages for a in p["data"]] == [a["id"] for a in full["data"]]


def test_app_list_filters_by_mode_and_name(sim):
    client = _login(sim)
    workflows = client.get("/apps", params={"mode": "workflow"}).json()["data"]
    assert {a["name"] for a in workflows} == {"Report Builder", "Release Notes", "Approval"}
    assert [a["name"] for a in client.get("/apps", params={"name": "BOT"}).json()["data"]] == [
        "FAQ Bot",
        "Support Bot",
    ]
    assert client.get("/apps", params={"mode": "bogus"}).status_code == 400


def test_demo_apps_report_their_service_api_keys_so_an_import_reuses_them(sim):
    client = _login(sim)
    app = DEMO_APPS["support-bot"]
    keys = client.get(f"/apps/{app['uuid']}/api-keys").json()["data"]
    assert [k["token"] for k in keys] == [sim.api_keys["support-bot"]]
    assert set(keys[0]) == {"id", "type", "token", "last_used_at", "created_at"}
    assert keys[0]["type"] == "app"
    assert sim.created_keys == []


def test_a_created_key_works_on_the_service_api_for_that_app(sim):
    client = _login(sim)
    faq = next(a for a in client.get("/apps").json()["data"] if a["name"] == "FAQ Bot")
    assert client.get(f"/apps/{faq['id']}/api-keys").json() == {"data": []}

    created = client.post(f"/apps/{faq['id']}/api-keys")
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("app-") and len(token) == 28 and token[4:].isalnum()
    assert sim.created_keys == [(faq["id"], token)]
    assert [k["token"] for k in client.get(f"/apps/{faq['id']}/api-keys").json()["data"]] == [token]

    v1 = httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {token}"})
    info = v1.get("/info").json()
    assert info["name"] == "FAQ Bot" and info["mode"] == "chat"
    answer = v1.post(
        "/chat-messages",
        json={"inputs": {"product": "difytui"}, "query": "hi", "user": "u1", "response_mode": "blocking"},
    )
    assert answer.status_code == 200 and answer.json()["answer"]


def test_at_most_ten_keys_per_app(sim):
    client = _login(sim)
    app_id = DEMO_APPS["copywriter"]["uuid"]  # has its demo key already
    for _ in range(9):
        assert client.post(f"/apps/{app_id}/api-keys").status_code == 201
    resp = client.post(f"/apps/{app_id}/api-keys")
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "Cannot create more than 10 API keys for this resource type.",
        "custom": "max_keys_exceeded",
    }
    assert len(sim.created_keys) == 9


def test_api_enable_toggles_the_detail_and_the_service_api(sim):
    client = _login(sim)
    drafts = next(a for a in client.get("/apps").json()["data"] if a["name"] == "Drafts Lab")
    assert client.get(f"/apps/{drafts['id']}").json()["enable_api"] is False
    token = _key(client, drafts["id"])
    v1 = httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {token}"})
    disabled = v1.get("/parameters")
    assert disabled.status_code == 403
    assert disabled.json()["message"] == "The app's API service has been disabled."

    enabled = client.post(f"/apps/{drafts['id']}/api-enable", json={"enable_api": True})
    assert enabled.status_code == 200 and enabled.json()["enable_api"] is True
    assert v1.get("/parameters").status_code == 200
    assert client.get(f"/apps/{drafts['id']}").json()["enable_api"] is True


def test_unknown_routes_and_ids(sim):
    client = _login(sim)
    assert client.get("/apps/not-a-uuid").status_code == 404  # Flask's uuid converter: HTML 404
    missing = client.get("/apps/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert client.delete("/apps").status_code == 405
