"""The account API (``/openapi/v1``, protocol part C): device flow, account, workspaces, apps, runs.

Check order for bearer routes follows Dify's pipeline: header (401) → token (an unknown, revoked or
expired token is a **500** in 1.14.2) → per-token rate limit (429) → app (404) → ``enable_api``
(403) → handler. Runs reuse the Service API's machinery (:mod:`.runs`, the server's pacing and its
error-then-silence path), attributed to the account instead of an end user.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from . import wire
from .api import CHAT_MODES, Api, Stream
from .apps import form_fields, parameters_body
from .device_flow import EXPIRES_IN, AccountToken, DeviceFlow
from .runs import Run
from .validation import is_uuid, prepare_files, prepare_inputs
from .workspace import AppRecord, Directory, iso

if TYPE_CHECKING:
    from .console import Console
    from .server import Request
    from .simulator import Simulator

PREFIX = "/openapi/v1"
#: The account API's own response headers (no CORS set; framing forbidden).
HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Version": wire.SERVER_VERSION,
    "X-Env": "PRODUCTION",
    "Vary": "Cookie",
}
_LIST_MODES = (
    "completion",
    "workflow",
    "chat",
    "advanced-chat",
    "agent-chat",
    "agent",
    "channel",
    "rag-pipeline",
)
_FIELDS = ("info", "parameters", "input_schema")
_FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "transfer_method": {"type": "string", "enum": ["local_file", "remote_url"]},
        "url": {"type": "string"},
        "upload_file_id": {"type": "string"},
    },
}

# (pattern, {method: (handler, auth)}); auth: None (public), "console" (session cookie), "bearer"
_ROUTES = [
    (r"/_version", {"GET": ("version", None)}),
    (r"/_health", {"GET": ("health", None)}),
    (r"/oauth/device/code", {"POST": ("device_code", None)}),
    (r"/oauth/device/token", {"POST": ("device_token", None)}),
    (r"/oauth/device/lookup", {"GET": ("device_lookup", None)}),
    (r"/oauth/device/approve", {"POST": ("device_approve", "console")}),
    (r"/oauth/device/deny", {"POST": ("device_deny", "console")}),
    (r"/account", {"GET": ("account", "bearer")}),
    (r"/account/sessions/self", {"DELETE": ("revoke_self", "bearer")}),
    (r"/workspaces", {"GET": ("workspaces", "bearer")}),
    (r"/apps", {"GET": ("apps", "bearer")}),
    (r"/apps/(?P<app>[^/]+)/describe", {"GET": ("describe", "bearer")}),
    (r"/apps/(?P<app>[^/]+)/run", {"POST": ("run", "bearer")}),
    (r"/apps/(?P<app>[^/]+)/tasks/(?P<task_id>[^/]+)/stop", {"POST": ("stop", "bearer")}),
    (r"/apps/(?P<app>[^/]+)/files/upload", {"POST": ("upload", "bearer")}),
]
ROUTES = [(re.compile(re.escape(PREFIX) + pattern + r"\Z"), methods) for pattern, methods in _ROUTES]


def _json(obj: Any, status: int = 200, **headers: str) -> wire.Response:
    return wire.Response(status, wire.resource_json(obj), wire.JSON, headers)


def _error(status: int, code: str, message: str, **extra: Any) -> wire.Response:
    """ErrorBody ``{code, message, status, details?}``."""
    return _json({"code": code, "message": message, "status": status, **extra}, status)


def _invalid(details: list[tuple[str, list, str]]) -> wire.Response:
    """422 for a request that fails validation: details as [{type, loc, msg}]."""
    return _error(
        422,
        "invalid_param",
        "Request validation failed",
        details=[{"type": t, "loc": loc, "msg": msg} for t, loc, msg in details],
    )


def _oauth_error(code: str, status: int = 400) -> wire.Response:
    return _json({"error": code}, status)


def _finish(resp: wire.Response) -> wire.Response:
    resp.bare = True
    resp.headers = {**resp.headers, **HEADERS}
    return resp


class _Reject(Exception):
    """Ends a request early with this response."""

    def __init__(self, response: wire.Response) -> None:
        self.response = response


class OpenApi:
    def __init__(
        self, sim: Simulator, directory: Directory, api: Api, devices: DeviceFlow, console: Console
    ) -> None:
        self.sim = sim
        self.dir = directory
        self.api = api
        self.devices = devices
        self.console = console
        self.request_counts: dict[str, int] = {}  # token → requests since the last 429

    # --- dispatch -------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> wire.Response | Stream:
        if not self.sim.openapi:
            return wire.not_found_html()  # OPENAPI_ENABLED=false: the blueprint does not exist
        found = wire.match_route(
            ROUTES,
            req,
            answer_options=False,
            not_allowed=lambda: _finish(_error(405, "method_not_allowed", "The method is not allowed.")),
        )
        if found is None:
            return wire.not_found_html()
        if isinstance(found, wire.Response):
            return found
        name, auth, args = found
        try:
            if auth == "bearer":
                args["token"] = self._authenticate(req)
            elif auth == "console" and not self.console.session_of(req):
                body = b'{"code": "unauthorized", "message": "Unauthorized."}'
                return _finish(wire.Response(401, body, wire.JSON))
            result = getattr(self, name)(req, **args)
        except _Reject as stop:
            result = stop.response
        except ValueError as exc:
            result = _error(400, "bad_request", str(exc))
        except Exception:  # a simulator bug must still answer, as Flask would
            result = _error(500, "internal_server_error", "Internal Server Error")
        return result if isinstance(result, Stream) else _finish(result)

    def _authenticate(self, req: Request) -> AccountToken:
        header = req.headers.get("authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            resp = _error(401, "unauthorized", "bearer required")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            raise _Reject(resp)
        record = self.devices.token(value.strip())
        if record is None:
            # 1.14.2: InvalidBearerError escapes the pipeline and Flask answers 500.
            raise _Reject(_error(500, "internal_server_error", "Internal Server Error"))
        limit = self.sim.openapi_rate_limit
        if limit:
            count = self.request_counts.get(record.token, 0) + 1
            self.request_counts[record.token] = count
            if count > limit:
                self.request_counts[record.token] = 0  # the window "passes" once the 429 is out
                raise _Reject(
                    _json(
                        {
                            "code": "too_many_requests",
                            "message": "This user has exceeded an allotted request count. Try again later.",
                            "status": 429,
                        },
                        429,
                        **{"Retry-After": str(self.sim.retry_after)},
                    )
                )
        return record

    def _app(self, app_id: str) -> AppRecord:
        record = self.dir.apps.get(app_id.lower()) if is_uuid(app_id) else None
        if record is None:
            raise _Reject(_error(404, "not_found", "app not found"))
        if not record.enable_api:
            raise _Reject(_error(403, "forbidden", "service_api_disabled"))
        if self.dir.workspace(record.workspace_id) is None:
            raise _Reject(_error(404, "not_found", "workspace not found"))
        return record

    # --- meta and device flow -------------------------------------------------------------------

    def version(self, req: Request) -> wire.Response:
        return _json({"version": wire.SERVER_VERSION, "edition": "SELF_HOSTED"})

    def health(self, req: Request) -> wire.Response:
        return _json({"ok": True})

    def device_code(self, req: Request) -> wire.Response:
        body = req.json if isinstance(req.json, dict) else {}
        missing = [f for f in ("client_id", "device_label") if not isinstance(body.get(f), str)]
        if missing:
            return _error(400, "bad_request", f"{missing[0]}: Field required")
        if body["client_id"] not in self.sim.known_client_ids:
            return _oauth_error("unsupported_client")
        code = self.devices.issue(body["client_id"], body["device_label"])
        return _json(
            {
                "device_code": code.device_code,
                "user_code": code.user_code,
                "verification_uri": f"{self.sim.console_url}/device",
                "expires_in": EXPIRES_IN,
                "interval": self.sim.device_interval,
            }
        )

    def device_token(self, req: Request) -> wire.Response:
        body = req.json if isinstance(req.json, dict) else {}
        outcome, grant = self.devices.poll(str(body.get("device_code", "")))
        return _json(grant) if outcome == "ok" else _oauth_error(outcome)

    def device_lookup(self, req: Request) -> wire.Response:
        code = self.devices.lookup(req.query.get("user_code", ""))
        if code is None:
            return _json({"valid": False, "expires_in_remaining": 0, "client_id": None})
        remaining = max(0, int(code.expires_at - time.monotonic()))
        return _json({"valid": True, "expires_in_remaining": remaining, "client_id": code.client_id})

    def _resolve(self, req: Request, approve: bool) -> wire.Response:
        user_code = (req.json or {}).get("user_code") if isinstance(req.json, dict) else None
        if not isinstance(user_code, str) or self.devices.resolve(user_code, approve) is None:
            return _oauth_error("expired_or_unknown", 404)
        return _json({"status": "approved" if approve else "denied"})

    def device_approve(self, req: Request) -> wire.Response:
        return self._resolve(req, True)

    def device_deny(self, req: Request) -> wire.Response:
        return self._resolve(req, False)

    # --- identity -------------------------------------------------------------------------------

    def _member_workspaces(self) -> list[dict]:
        return [{"id": w.id, "name": w.name, "role": w.role} for w in self.dir.workspaces]

    def account(self, req: Request, token: AccountToken) -> wire.Response:
        return _json(
            {
                "subject_type": "account",
                "subject_email": self.dir.account["email"],
                "subject_issuer": None,
                "account": dict(self.dir.account),
                "workspaces": self._member_workspaces(),
                "default_workspace_id": token.workspace_id,
            }
        )

    def revoke_self(self, req: Request, token: AccountToken) -> wire.Response:
        self.devices.revoke(token)
        return _json({"status": "revoked"})

    def workspaces(self, req: Request, token: AccountToken) -> wire.Response:
        return _json(
            {
                "workspaces": [
                    {
                        "id": w.id,
                        "name": w.name,
                        "role": w.role,
                        "status": w.status,
                        "current": w.id == self.dir.current_workspace_id,
                    }
                    for w in self.dir.workspaces
                ]
            }
        )

    # --- apps -----------------------------------------------------------------------------------

    def apps(self, req: Request, token: AccountToken) -> wire.Response:
        q = req.query
        ws = self.dir.workspace(q.get("workspace_id"))
        if ws is None:
            return _error(404, "not_found", "workspace not found")
        errors = []
        page = _query_int(q, "page", 1, 1, None, errors)
        limit = _query_int(q, "limit", 20, 1, 200, errors)
        mode = q.get("mode") or None
        if mode is not None and mode not in _LIST_MODES:
            errors.append(("enum", ["query", "mode"], f"Input should be {_or_list(_LIST_MODES)}"))
        if errors:
            return _invalid(errors)
        limit = min(limit, 100, self.sim.max_page_size)  # the service layer caps at 100
        apps = [a for a in self.dir.apps_in(ws.id) if a.enable_api]
        if mode:
            apps = [a for a in apps if a.mode == mode]
        name = (q.get("name") or "")[:30]
        if is_uuid(name):
            apps = [a for a in apps if a.uuid == name.lower()]
        elif name:
            apps = [a for a in apps if name.lower() in a.definition["name"].lower()]
        if q.get("tag"):
            apps = [a for a in apps if q["tag"] in a.definition["tags"]]
        chunk = apps[(page - 1) * limit : page * limit]
        data = [
            {
                "id": a.uuid,
                "name": a.definition["name"],
                "description": a.definition["description"],
                "mode": a.mode,
                "tags": [{"name": t} for t in a.definition["tags"]],
                "updated_at": iso(a.created_at),
                "created_by_name": self.dir.account["name"],
                "workspace_id": ws.id,
                "workspace_name": ws.name,
            }
            for a in chunk
        ]
        return _json(
            {
                "page": page,
                "limit": limit,
                "total": len(apps),
                "has_more": page * limit < len(apps),
                "data": data,
            }
        )

    def describe(self, req: Request, token: AccountToken, app: str) -> wire.Response:
        raw = req.query.get("fields")
        wanted = [f.strip() for f in raw.split(",") if f.strip()] if raw else list(_FIELDS)
        unknown = [f for f in wanted if f not in _FIELDS]
        if unknown:
            return _invalid([("value_error", ["query", "fields"], f"unknown field: {unknown[0]}")])
        record = self._app(app)
        d = record.definition
        info = {
            "id": record.uuid,
            "name": d["name"],
            "description": d["description"],
            "mode": record.mode,
            "author": d["author_name"],
            "tags": [{"name": t} for t in d["tags"]],
            "updated_at": iso(record.created_at),
            "service_api_enabled": record.enable_api,
            "is_agent": record.mode in ("agent-chat", "advanced-chat"),
        }
        blocks = {"info": info, "parameters": parameters_body(d), "input_schema": input_schema(d)}
        return _json({name: blocks[name] if name in wanted else None for name in _FIELDS})

    # --- runs -----------------------------------------------------------------------------------

    def run(self, req: Request, token: AccountToken, app: str) -> wire.Response | Stream:
        record = self._app(app)
        body = req.json
        if not isinstance(body, dict):
            return _invalid([("model_attributes_type", ["body"], "Input should be a valid dictionary")])
        d, mode = record.definition, record.mode
        if not isinstance(body.get("inputs"), dict):
            kind = "missing" if "inputs" not in body else "dict_type"
            return _invalid([(kind, ["body", "inputs"], "Field required")])
        query = body.get("query")
        if mode in CHAT_MODES and (not isinstance(query, str) or not query.strip()):
            return _error(422, "invalid_param", "query_required_for_chat")
        if mode == "workflow" and query is not None:
            return _error(422, "invalid_param", "query_not_supported_for_workflow")
        cid = body.get("conversation_id") or ""
        if cid and not is_uuid(cid):
            return _invalid([("value_error", ["body", "conversation_id"], "must be a valid UUID")])
        user = self.dir.account["id"]
        state = self.api.state
        strict = mode == "workflow"
        try:
            conv = None
            if cid and mode in CHAT_MODES:
                conv = state.conversation(record.slug, user, cid)
                if conv is None:
                    raise ValueError("Conversation Not Exists.")
            inputs = prepare_inputs(d, body["inputs"], state.uploads, strict=strict)
            files = prepare_files(d, body.get("files"), state.uploads, strict=strict)
        except ValueError as exc:
            # Generation errors reach the account API's stream as an error event, then silence.
            return Stream(error=str(exc), headers=HEADERS)
        query = query if isinstance(query, str) else ""
        message = None
        if mode in CHAT_MODES:
            if conv is None:
                conv = state.new_conversation(d, record.slug, user, query, inputs)
            message = state.add_message(conv, query, inputs)
        elif mode == "completion":
            message = state.add_message(None, query, inputs)
        run = Run(
            state=state,
            app_id=record.slug,
            app=d,
            user=user,
            inputs=inputs,
            query=query,
            files=files,
            conversation=conv,
            message=message,
            # Runs here belong to the account: workflow_finished names it (run_chat_turn1).
            created_by={k: self.dir.account[k] for k in ("id", "name", "email")},
        )
        return Stream(run=run, headers=HEADERS)

    def stop(self, req: Request, token: AccountToken, app: str, task_id: str) -> wire.Response:
        record = self._app(app)
        run = self.api.live_run(task_id)
        if run is not None and run.app_id == record.slug and not run.finished:
            run.stop()
            self.api.stopped_tasks.append(run.task_id)
        return _json({"result": "success"})

    def upload(self, req: Request, token: AccountToken, app: str) -> wire.Response:
        record = self._app(app)
        account = self.dir.account["id"]
        return self.api.store_upload(req, created_by=lambda _user: account, tenant_id=record.workspace_id)


def input_schema(app: dict) -> dict:
    """A JSON Schema for the run body, built from the app's form like Dify's describe."""
    properties: dict[str, Any] = {}
    required = []
    for kind, spec in form_fields(app):
        if kind == "external_data_tool":
            continue
        var = spec["variable"]
        title = spec.get("label") or var
        if kind in ("text-input", "paragraph"):
            prop: dict[str, Any] = {"type": "string", "title": title}
            if spec.get("max_length"):
                prop["maxLength"] = spec["max_length"]
        elif kind == "select":
            prop = {"type": "string", "title": title, "enum": list(spec.get("options") or [])}
        elif kind == "number":
            prop = {"type": "number", "title": title}
        elif kind == "checkbox":
            prop = {"type": "boolean", "title": title}
        elif kind == "file":
            prop = {**_FILE_SCHEMA, "title": title}
        elif kind == "file-list":
            prop = {"type": "array", "title": title, "items": _FILE_SCHEMA}
        else:  # json_object
            prop = {"type": "object", "title": title}
        properties[var] = prop
        if spec.get("required"):
            required.append(var)
    inputs = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    top: dict[str, Any] = {}
    mode = app["mode"]
    if mode in CHAT_MODES:
        top["query"] = {"type": "string", "minLength": 1}
    elif mode == "completion":
        top["query"] = {"type": "string"}
    top["inputs"] = inputs
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": top,
        "required": ["query", "inputs"] if mode in CHAT_MODES else ["inputs"],
    }


def _query_int(q: dict, name: str, default: int, lo: int, hi: int | None, errors: list) -> int:
    raw = q.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(("int_parsing", ["query", name], "Input should be a valid integer"))
        return default
    if value < lo:
        errors.append(
            ("greater_than_equal", ["query", name], f"Input should be greater than or equal to {lo}")
        )
    elif hi is not None and value > hi:
        errors.append(("less_than_equal", ["query", name], f"Input should be less than or equal to {hi}"))
    return value


def _or_list(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
