"""The account API (``/openapi/v1``, protocol part C): routes, bearer checks, device flow, identity.

Check order for bearer routes follows Dify's pipeline: header (401) → token (an unknown, revoked or
expired token is a **500** in 1.14.2) → per-token rate limit (429) → app (404) → ``enable_api``
(403) → handler. The app routes live in :mod:`.openapi_apps`, the run routes in
:mod:`.openapi_runs`; the device-flow state machine is :mod:`.device_flow`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import openapi_apps, openapi_runs, wire
from .device_flow import EXPIRES_IN, AccountToken, DeviceFlow
from .openapi_responses import HEADERS, Reject, error, finish, json_response, oauth_error
from .runs import Stream
from .validation import is_uuid
from .workspace import AppRecord, Directory

if TYPE_CHECKING:
    from .api import Api
    from .console import Console
    from .server import Request
    from .simulator import Simulator

__all__ = ["HEADERS", "PREFIX", "ROUTES", "OpenApi"]

PREFIX = "/openapi/v1"

# --- meta and device flow -----------------------------------------------------------------------


def version(oa: OpenApi, req: Request) -> wire.Response:
    return json_response({"version": wire.SERVER_VERSION, "edition": "SELF_HOSTED"})


def health(oa: OpenApi, req: Request) -> wire.Response:
    return json_response({"ok": True})


def device_code(oa: OpenApi, req: Request) -> wire.Response:
    body = req.json if isinstance(req.json, dict) else {}
    missing = [f for f in ("client_id", "device_label") if not isinstance(body.get(f), str)]
    if missing:
        return error(400, "bad_request", f"{missing[0]}: Field required")
    if body["client_id"] not in oa.sim.known_client_ids:
        return oauth_error("unsupported_client")
    code = oa.devices.issue(body["client_id"], body["device_label"])
    return json_response(
        {
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": f"{oa.sim.console_url}/device",
            "expires_in": EXPIRES_IN,
            "interval": oa.sim.device_interval,
        }
    )


def device_token(oa: OpenApi, req: Request) -> wire.Response:
    body = req.json if isinstance(req.json, dict) else {}
    outcome, grant = oa.devices.poll(str(body.get("device_code", "")))
    return json_response(grant) if outcome == "ok" else oauth_error(outcome)


def device_lookup(oa: OpenApi, req: Request) -> wire.Response:
    code = oa.devices.lookup(req.query.get("user_code", ""))
    if code is None:
        return json_response({"valid": False, "expires_in_remaining": 0, "client_id": None})
    remaining = max(0, int(code.expires_at - time.monotonic()))
    return json_response({"valid": True, "expires_in_remaining": remaining, "client_id": code.client_id})


def _resolve(oa: OpenApi, req: Request, approve: bool) -> wire.Response:
    user_code = (req.json or {}).get("user_code") if isinstance(req.json, dict) else None
    if not isinstance(user_code, str) or oa.devices.resolve(user_code, approve) is None:
        return oauth_error("expired_or_unknown", 404)
    return json_response({"status": "approved" if approve else "denied"})


def device_approve(oa: OpenApi, req: Request) -> wire.Response:
    return _resolve(oa, req, True)


def device_deny(oa: OpenApi, req: Request) -> wire.Response:
    return _resolve(oa, req, False)


# --- identity -----------------------------------------------------------------------------------


def account(oa: OpenApi, req: Request, token: AccountToken) -> wire.Response:
    return json_response(
        {
            "subject_type": "account",
            "subject_email": oa.dir.account["email"],
            "subject_issuer": None,
            "account": dict(oa.dir.account),
            "workspaces": [{"id": w.id, "name": w.name, "role": w.role} for w in oa.dir.workspaces],
            "default_workspace_id": token.workspace_id,
        }
    )


def revoke_self(oa: OpenApi, req: Request, token: AccountToken) -> wire.Response:
    oa.devices.revoke(token)
    return json_response({"status": "revoked"})


def workspaces(oa: OpenApi, req: Request, token: AccountToken) -> wire.Response:
    return json_response(
        {
            "workspaces": [
                {
                    "id": w.id,
                    "name": w.name,
                    "role": w.role,
                    "status": w.status,
                    "current": w.id == oa.dir.current_workspace_id,
                }
                for w in oa.dir.workspaces
            ]
        }
    )


# --- routes -------------------------------------------------------------------------------------

#: a handler: (account API, request, path params and, on bearer routes, ``token``) → answer
Handler = Callable[..., "wire.Response | Stream"]

# (pattern, {method: (handler, auth)}); auth: None (public), "console" (session cookie), "bearer"
_ROUTES: list[tuple[str, dict[str, tuple[Handler, str | None]]]] = [
    (r"/_version", {"GET": (version, None)}),
    (r"/_health", {"GET": (health, None)}),
    (r"/oauth/device/code", {"POST": (device_code, None)}),
    (r"/oauth/device/token", {"POST": (device_token, None)}),
    (r"/oauth/device/lookup", {"GET": (device_lookup, None)}),
    (r"/oauth/device/approve", {"POST": (device_approve, "console")}),
    (r"/oauth/device/deny", {"POST": (device_deny, "console")}),
    (r"/account", {"GET": (account, "bearer")}),
    (r"/account/sessions/self", {"DELETE": (revoke_self, "bearer")}),
    (r"/workspaces", {"GET": (workspaces, "bearer")}),
    (r"/apps", {"GET": (openapi_apps.apps, "bearer")}),
    (r"/apps/(?P<app>[^/]+)/describe", {"GET": (openapi_apps.describe, "bearer")}),
    (r"/apps/(?P<app>[^/]+)/run", {"POST": (openapi_runs.run, "bearer")}),
    (r"/apps/(?P<app>[^/]+)/tasks/(?P<task_id>[^/]+)/stop", {"POST": (openapi_runs.stop, "bearer")}),
    (r"/apps/(?P<app>[^/]+)/files/upload", {"POST": (openapi_runs.upload, "bearer")}),
    (r"/apps/(?P<app>[^/]+)/tasks/(?P<run_id>[^/]+)/events", {"GET": (openapi_runs.events, "bearer")}),
    (
        r"/apps/(?P<app>[^/]+)/form/human_input/(?P<form_token>[^/]+)",
        {"GET": (openapi_runs.form, "bearer"), "POST": (openapi_runs.form, "bearer")},
    ),
]
ROUTES = [(re.compile(re.escape(PREFIX) + pattern + r"\Z"), methods) for pattern, methods in _ROUTES]


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

    def dispatch(self, req: Request) -> wire.Response | Stream:
        if not self.sim.openapi:
            return wire.not_found_html()  # OPENAPI_ENABLED=false: the blueprint does not exist
        found = wire.match_route(
            ROUTES,
            req,
            answer_options=False,
            not_allowed=lambda: finish(error(405, "method_not_allowed", "The method is not allowed.")),
        )
        if isinstance(found, wire.Response):
            return found
        handler, auth, params = found
        args: dict[str, object] = dict(params)  # path params, and the token on bearer routes
        try:
            if auth == "bearer":
                args["token"] = self._authenticate(req)
            elif auth == "console" and not self.console.session_of(req):
                body = b'{"code": "unauthorized", "message": "Unauthorized."}'
                return finish(wire.Response(401, body, wire.JSON))
            result = handler(self, req, **args)
        except Reject as stop:
            result = stop.response
        except ValueError as exc:
            result = error(400, "bad_request", str(exc))
        except Exception:  # a simulator bug must still answer, as Flask would
            result = error(500, "internal_server_error", "Internal Server Error")
        return result if isinstance(result, Stream) else finish(result)

    def _authenticate(self, req: Request) -> AccountToken:
        header = req.headers.get("authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            resp = error(401, "unauthorized", "bearer required")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            raise Reject(resp)
        record = self.devices.token(value.strip())
        if record is None:
            # 1.14.2: InvalidBearerError escapes the pipeline and Flask answers 500.
            raise Reject(error(500, "internal_server_error", "Internal Server Error"))
        limit = self.sim.openapi_rate_limit
        if limit:
            count = self.request_counts.get(record.token, 0) + 1
            self.request_counts[record.token] = count
            if count > limit:
                self.request_counts[record.token] = 0  # the window "passes" once the 429 is out
                raise Reject(
                    json_response(
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

    def app_record(self, app_id: str) -> AppRecord:
        """The route's app, or the 404 / 403 that ends the request."""
        record = self.dir.apps.get(app_id.lower()) if is_uuid(app_id) else None
        if record is None:
            raise Reject(error(404, "not_found", "app not found"))
        if not record.enable_api:
            raise Reject(error(403, "forbidden", "service_api_disabled"))
        if self.dir.workspace(record.workspace_id) is None:
            raise Reject(error(404, "not_found", "workspace not found"))
        return record
