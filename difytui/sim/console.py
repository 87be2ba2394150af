"""The console API (``/console/api``) that discovery needs: login, workspaces, apps, API keys.

Auth follows Dify ≥ 1.11.2 (protocol §7.1): the password arrives Base64-encoded, the session lives in
cookies, and every ``@login_required`` call must echo the ``csrf_token`` cookie in ``X-CSRF-Token``.
Each request records whether it did (``Request.csrf_ok``), so tests can assert "CSRF on every call".
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
import re
import time
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from . import wire
from .apps import info_body
from .workspace import AppRecord, Directory, sim_uuid

if TYPE_CHECKING:
    from .server import Request
    from .simulator import Simulator

PREFIX = "/console/api"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_MODES = ("all", "completion", "chat", "advanced-chat", "workflow", "agent-chat", "agent", "channel")
ACCESS_MAX_AGE = 3600
REFRESH_MAX_AGE = 30 * 86400

# (pattern, {method: (handler, needs a session)})
_ROUTES = [
    (r"/login", {"POST": ("login", False)}),
    (r"/logout", {"POST": ("logout", False)}),
    (r"/refresh-token", {"POST": ("refresh", False)}),
    (r"/workspaces", {"GET": ("workspaces", True)}),
    (r"/workspaces/switch", {"POST": ("switch", True)}),
    (r"/apps", {"GET": ("apps", True)}),
    (rf"/apps/(?P<app>{_UUID})", {"GET": ("app_detail", True)}),
    (rf"/apps/(?P<app>{_UUID})/api-enable", {"POST": ("api_enable", True)}),
    (rf"/apps/(?P<app>{_UUID})/api-keys", {"GET": ("list_keys", True), "POST": ("create_key", True)}),
]
ROUTES = [(re.compile(re.escape(PREFIX) + pattern + r"\Z"), methods) for pattern, methods in _ROUTES]


def _json(obj: Any, status: int = 200, /, **headers: str | list[str]) -> wire.Response:
    return wire.Response(status, wire.resource_json(obj), wire.JSON, headers)


def _cookie(name: str, value: str, max_age: int, http_only: bool) -> str:
    """Werkzeug's ``dump_cookie`` layout; plain names because the console is on http."""
    expires = (
        email.utils.formatdate(time.time() + max_age, usegmt=True)
        if max_age
        else ("Thu, 01 Jan 1970 00:00:00 GMT")
    )
    parts = [f"{name}={value}", f"Expires={expires}", f"Max-Age={max_age}"]
    if http_only:
        parts.append("HttpOnly")
    return "; ".join([*parts, "Path=/", "SameSite=Lax"])


def _session_cookies(access: str, refresh: str, csrf: str) -> list[str]:
    return [
        _cookie("access_token", access, ACCESS_MAX_AGE, True),
        _cookie("csrf_token", csrf, ACCESS_MAX_AGE, False),
        _cookie("refresh_token", refresh, REFRESH_MAX_AGE, True),
    ]


_CLEARED = [
    _cookie("access_token", "", 0, True),
    _cookie("csrf_token", "", 0, False),
    _cookie("refresh_token", "", 0, True),
]


class Console:
    def __init__(self, sim: Simulator, directory: Directory) -> None:
        self.sim = sim
        self.dir = directory
        self.sessions: dict[str, str] = {}  # access token → csrf token
        self.refresh_tokens: dict[str, str] = {}  # refresh token → access token
        self._issued = 0

    # --- dispatch -------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> wire.Response:
        found = wire.match_route(ROUTES, req)
        if isinstance(found, wire.Response):
            return found
        name, needs_session, params = found
        if needs_session:
            denied = self._check_session(req)
            if denied is not None:
                return denied
        return wire.flask_errors(lambda: getattr(self, name)(req, **params))

    @staticmethod
    def _cookies(req: Request) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(req.headers.get("cookie", ""))
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    def session_of(self, req: Request) -> str | None:
        """The csrf token of the request's console session (cookie or Bearer), if it has one."""
        access = self._cookies(req).get("access_token")
        header = req.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            access = header[7:].strip()
        return self.sessions.get(access or "")

    def _check_session(self, req: Request) -> wire.Response | None:
        """Flask-Login first (401 "Unauthorized."), then ``check_csrf_token``."""
        cookies = self._cookies(req)
        csrf = self.session_of(req)
        if csrf is None:
            req.csrf_ok = False
            # The login manager's handler: stdlib json.dumps spacing and no "status".
            body = json.dumps({"code": "unauthorized", "message": "Unauthorized."}).encode()
            return wire.Response(401, body, wire.JSON)
        sent = req.headers.get("x-csrf-token")
        req.csrf_ok = bool(sent) and sent == cookies.get("csrf_token") and sent == csrf
        if not req.csrf_ok:
            return wire.error(401, "unauthorized", "CSRF token is missing or invalid.")
        return None

    def _new_session(self) -> list[str]:
        self._issued += 1

        def token(kind: str) -> str:
            return hashlib.sha256(f"difytui-sim:{kind}:{self._issued}".encode()).hexdigest()

        access, refresh, csrf = token("access"), token("refresh"), token("csrf")
        self.sessions[access] = csrf
        self.refresh_tokens[refresh] = access
        return _session_cookies(access, refresh, csrf)

    # --- auth -----------------------------------------------------------------------------------

    def login(self, req: Request) -> wire.Response:
        body = req.json if isinstance(req.json, dict) else {}
        email, password = body.get("email"), body.get("password")
        try:
            # Dify "decrypts" the field with a plain Base64 decode; a plain password fails here.
            plain = base64.b64decode(str(password), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            plain = None
        if (
            not isinstance(email, str)
            or email.strip().lower() != self.dir.account["email"]
            or plain != self.dir.password
        ):
            return wire.error(401, "authentication_failed", "Invalid email or password.")
        return _json({"result": "success"}, **{"Set-Cookie": self._new_session()})

    def logout(self, req: Request) -> wire.Response:
        access = self._cookies(req).get("access_token")
        self.sessions.pop(access or "", None)
        return _json({"result": "success"}, **{"Set-Cookie": _CLEARED})

    def refresh(self, req: Request) -> wire.Response:
        old = self.refresh_tokens.pop(self._cookies(req).get("refresh_token") or "", None)
        if old is None:
            return _json({"result": "fail", "message": "Invalid refresh token"}, 401)
        self.sessions.pop(old, None)
        return _json({"result": "success"}, **{"Set-Cookie": self._new_session()})

    # --- workspaces -----------------------------------------------------------------------------

    def _workspace_body(self, ws) -> dict:
        return {
            "id": ws.id,
            "name": ws.name,
            "plan": ws.plan,
            "status": ws.status,
            "created_at": ws.created_at,
            "current": ws.id == self.dir.current_workspace_id,
        }

    def workspaces(self, req: Request) -> wire.Response:
        return _json({"workspaces": [self._workspace_body(ws) for ws in self.dir.workspaces]})

    def switch(self, req: Request) -> wire.Response:
        tenant_id = (req.json or {}).get("tenant_id") if isinstance(req.json, dict) else None
        ws = self.dir.workspace(tenant_id)
        if ws is None:
            return wire.error(400, "account_not_link_tenant", "Account not link tenant")
        self.dir.current_workspace_id = ws.id
        tenant = {k: v for k, v in self._workspace_body(ws).items() if k != "current"}
        tenant.update(role=ws.role, in_trial=None, trial_end_reason=None, custom_config={})
        return _json({"result": "success", "new_tenant": tenant})

    # --- apps -----------------------------------------------------------------------------------

    def _partial(self, app: AppRecord) -> dict:
        d = app.definition
        account = self.dir.account["id"]
        workflow = None
        model_config = None
        if app.mode in ("workflow", "advanced-chat"):
            workflow = {
                "id": d["workflow_id"],
                "created_by": account,
                "created_at": app.created_at,
                "updated_by": account,
                "updated_at": app.created_at,
            }
        else:
            model_config = {
                "model": {
                    "provider": "langgenius/openai/openai",
                    "name": "gpt-4o-mini",
                    "mode": "chat",
                    "completion_params": {},
                },
                "pre_prompt": "",
                "created_by": account,
                "created_at": app.created_at,
                "updated_by": account,
                "updated_at": app.created_at,
            }
        return {
            "id": app.uuid,
            "name": d["name"],
            "max_active_requests": None,
            "description": d["description"],
            "mode": app.mode,
            "icon_type": "emoji",
            "icon": d["icon"],
            "icon_background": "#FFEAD5",
            "icon_url": None,
            "model_config": model_config,
            "workflow": workflow,
            "use_icon_as_answer_icon": False,
            "created_by": account,
            "created_at": app.created_at,
            "updated_by": account,
            "updated_at": app.created_at,
            "tags": [{"id": sim_uuid("tag:" + t), "name": t, "type": "app"} for t in d["tags"]],
            "access_mode": None,
            "create_user_name": self.dir.account["name"],
            "author_name": info_body(d)["author_name"],
            "has_draft_trigger": False,
        }

    def apps(self, req: Request) -> wire.Response:
        q = req.query
        page = wire.bounded_int(q.get("page"), 1, 1, 99999, "page")
        limit = wire.bounded_int(q.get("limit"), 20, 1, 100, "limit")
        limit = min(limit, self.sim.max_page_size)
        mode = q.get("mode") or "all"
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}")
        apps = self.dir.apps_in(self.dir.current_workspace_id)
        if mode != "all":
            apps = [a for a in apps if a.mode == mode]
        name = (q.get("name") or "")[:30].lower()
        if name:
            apps = [a for a in apps if name in a.definition["name"].lower()]
        chunk = apps[(page - 1) * limit : page * limit]
        return _json(
            {
                "page": page,
                "limit": limit,
                "total": len(apps),
                "has_more": page * limit < len(apps),
                "data": [self._partial(a) for a in chunk],
            }
        )

    def _app(self, app_id: str) -> AppRecord | None:
        """An app of the current workspace (others are "not found", as in Dify)."""
        app = self.dir.apps.get(app_id.lower())
        if app is None or app.workspace_id != self.dir.current_workspace_id:
            return None
        return app

    def _detail(self, app: AppRecord) -> dict:
        detail = self._partial(app)
        detail.update(
            enable_site=True,
            enable_api=app.enable_api,
            api_base_url=self.sim.base_url,
            tracing=None,
            deleted_tools=[],
            site={"access_token": sim_uuid("site:" + app.slug)[:16], "title": app.definition["name"]},
        )
        return detail

    def app_detail(self, req: Request, app: str) -> wire.Response:
        record = self._app(app)
        if record is None:
            return wire.error(404, "app_not_found", "App not found.")
        return _json(self._detail(record))

    def api_enable(self, req: Request, app: str) -> wire.Response:
        record = self._app(app)
        if record is None:
            return wire.error(404, "app_not_found", "App not found.")
        enable = req.json.get("enable_api") if isinstance(req.json, dict) else None
        if not isinstance(enable, bool):
            raise ValueError("enable_api is required")
        record.enable_api = enable
        return _json(self._detail(record))

    def list_keys(self, req: Request, app: str) -> wire.Response:
        record = self._app(app)
        if record is None:
            # flask-restx abort(): only a "message" in the body
            return _json({"message": "App not found."}, 404)
        return _json({"data": [dict(k) for k in record.keys]})

    def create_key(self, req: Request, app: str) -> wire.Response:
        record = self._app(app)
        if record is None:
            return _json({"message": "App not found."}, 404)
        key = self.dir.create_key(record, int(time.time()))
        if key is None:
            return _json(
                {
                    "message": "Cannot create more than 10 API keys for this resource type.",
                    "custom": "max_keys_exceeded",
                },
                400,
            )
        self.sim.created_keys.append((record.uuid, key["token"]))
        return _json(key, 201)
