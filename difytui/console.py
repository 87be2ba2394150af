"""A session on Dify's console API (``/console/api``), logged in the way Dify's web console does.

Used only by ``difytui workspace import``: list the account's workspaces and apps, read or create the
apps' Service API keys, enable an app's API. Facts (dify-protocol.md B §7):

* the password is sent Base64-encoded (Dify ≥ 1.11.2; older servers take it plain);
* the session lives in cookies (``access_token``, ``csrf_token``; ``__Host-`` prefixed on https) and
  every later call, GETs included, must echo the CSRF cookie in ``X-CSRF-Token``;
* servers ≤ 1.9.1 answered the login with bearer tokens in the body instead of cookies;
* errors raised with flask-restx ``abort`` have a bare ``{"message": …}`` body (no ``code``).

The password and every token the console returns are held in :class:`Secret`, so no repr, log line or
exception can show them.
"""

from __future__ import annotations

import base64
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from difytui._http import api_error, connection_error, decode_json
from difytui.errors import DifyAPIError, DifyError
from difytui.secrets import Secret

__all__ = ["ApiKey", "ConsoleAPIError", "ConsoleSession", "console_root"]

DEFAULT_TIMEOUT = 30.0
PAGE_LIMIT = 100  # the console's maximum page size
MAX_PAGES = 1000  # a server that always says has_more must not loop forever
_CSRF_COOKIES = ("csrf_token", "__Host-csrf_token")
#: Dify versions before this one take the login password as plain text.
_BASE64_SINCE = (1, 11, 2)


class ConsoleAPIError(DifyAPIError):
    """A console API error: Dify's message as it stands (no Service-API key hint on a 401)."""

    def __init__(self, status: int, code: str, message: str, *, url: str = "") -> None:
        super().__init__(status, code, message, url=url)
        label = f"{status} {code}".strip()
        self.args = (f"Dify console error {label}: {message}",)

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class ApiKey:
    """One Service API key of an app, as the console lists it (``token`` masked everywhere)."""

    id: str
    token: Secret
    created_at: int | None = None
    last_used_at: int | None = field(default=None, compare=False)


def console_root(url: str) -> str:
    """The console's origin from a pasted URL (``https://dify.example.com/apps``, ``…/console/api``)."""
    url = url.strip().rstrip("/")
    if not re.match(r"https?://[^/\s]", url, re.IGNORECASE):
        raise DifyError(f"the console URL must start with http:// or https:// (got {url!r})")
    match = re.match(r"(https?://[^/]+)(/.*)?$", url, re.IGNORECASE)
    assert match is not None
    path = match.group(2) or ""
    # Dify may be served under a prefix; keep it, but drop the console page or API part the user copied.
    path = re.sub(r"/(console/api|apps|signin)(/.*)?$", "", path)
    return match.group(1) + path


def _version(text: str | None) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", text or "")
    return tuple(int(p) for p in parts[:3]) if parts else None


class ConsoleSession:
    """A logged-in console session (``with ConsoleSession(url) as console: console.login(…)``)."""

    def __init__(
        self,
        console_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.console_url = console_root(console_url)
        self.api_url = self.console_url + "/console/api"
        self.server_version: str = ""
        self._bearer: Secret | None = None  # servers ≤ 1.9.1 only
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"ConsoleSession({self.console_url!r})"

    def __enter__(self) -> ConsoleSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- transport ------------------------------------------------------------------------------

    def _csrf(self) -> str | None:
        for cookie in self._http.cookies.jar:
            if cookie.name in _CSRF_COOKIES and cookie.value:
                return cookie.value
        return None

    def _send(
        self, method: str, path: str, *, json: Any = None, params: dict | None = None
    ) -> httpx.Response:
        url = self.api_url + path
        headers = {"Accept": "application/json"}
        csrf = self._csrf()
        if csrf:
            headers["X-CSRF-Token"] = csrf
        if self._bearer is not None:
            headers["Authorization"] = f"Bearer {self._bearer.reveal()}"
        try:
            response = self._http.request(method, url, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None
        self.server_version = response.headers.get("x-version", self.server_version)
        return response

    @staticmethod
    def _error(response: httpx.Response) -> ConsoleAPIError:
        base = api_error(response, response.content)
        code = base.code
        if not code:  # flask-restx abort(…, custom="max_keys_exceeded")
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("custom"), str):
                code = data["custom"]
        return ConsoleAPIError(base.status, code, base.message, url=base.url)

    def _call(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Any:
        response = self._send(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise self._error(response)
        return decode_json(response, response.content)

    # --- session --------------------------------------------------------------------------------

    def login(self, email: str, password: str | Secret) -> None:
        """Log in; raises :class:`ConsoleAPIError` with Dify's message (e.g. "Invalid email or password.")."""
        secret = password if isinstance(password, Secret) else Secret(password)
        encoded = base64.b64encode(secret.reveal().encode("utf-8")).decode("ascii")
        response = self._login(email, encoded)
        if (
            response.status_code == 401
            and _code(response) == "authentication_failed"
            and (version := _version(response.headers.get("x-version"))) is not None
            and version < _BASE64_SINCE
        ):
            # This server predates the Base64 password: it failed to match the encoded form.
            response = self._login(email, secret.reveal())
        if response.status_code >= 400:
            raise self._error(response)
        body = decode_json(response, response.content)
        if not isinstance(body, dict) or body.get("result") != "success":
            data = body.get("data") if isinstance(body, dict) else None
            message = data if isinstance(data, str) and data else "the console refused the login"
            raise ConsoleAPIError(response.status_code, "login_failed", message, url=str(response.url))
        data = body.get("data")
        if isinstance(data, dict) and data.get("access_token"):  # Dify ≤ 1.9.1: tokens in the body
            self._bearer = Secret(str(data["access_token"]))

    def _login(self, email: str, password_field: str) -> httpx.Response:
        payload = {"email": email, "password": password_field, "remember_me": True, "invite_token": None}
        return self._send("POST", "/login", json=payload)

    def logout(self) -> None:
        """End the session on the server (best effort: the cookies die with the client anyway)."""
        with contextlib.suppress(DifyError):
            self._call("POST", "/logout")
        self._http.cookies.clear()
        self._bearer = None

    # --- workspaces and apps --------------------------------------------------------------------

    def workspaces(self) -> list[dict[str, Any]]:
        """``[{"id", "name", "current", …}]``: the account's workspaces."""
        body = self._call("GET", "/workspaces")
        items = body.get("workspaces") if isinstance(body, dict) else None
        return [w for w in items or [] if isinstance(w, dict) and w.get("id")]

    def switch_workspace(self, workspace_id: str) -> None:
        self._call("POST", "/workspaces/switch", json={"tenant_id": workspace_id})

    def apps(self) -> list[dict[str, Any]]:
        """Every app of the current workspace (all pages, newest first as Dify orders them)."""
        apps: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = self._call("GET", "/apps", params={"page": page, "limit": PAGE_LIMIT})
            data = body.get("data") if isinstance(body, dict) else None
            for app in data or []:
                if isinstance(app, dict) and app.get("id") and app["id"] not in seen:
                    seen.add(app["id"])
                    apps.append(app)
            if not (isinstance(body, dict) and body.get("has_more")) or not data:
                break
        return apps

    def app(self, app_id: str) -> dict[str, Any]:
        """The app's detail (``enable_api``, ``mode``, …)."""
        body = self._call("GET", f"/apps/{app_id}")
        return body if isinstance(body, dict) else {}

    def api_keys(self, app_id: str) -> list[ApiKey]:
        body = self._call("GET", f"/apps/{app_id}/api-keys")
        items = body.get("data") if isinstance(body, dict) else None
        return [_api_key(item) for item in items or [] if isinstance(item, dict) and item.get("token")]

    def create_api_key(self, app_id: str) -> ApiKey:
        return _api_key(self._call("POST", f"/apps/{app_id}/api-keys"))

    def enable_api(self, app_id: str) -> None:
        self._call("POST", f"/apps/{app_id}/api-enable", json={"enable_api": True})


def _api_key(item: Any) -> ApiKey:
    if not isinstance(item, dict) or not item.get("token"):
        raise DifyError("the console answered an API key request without a key")
    return ApiKey(
        id=str(item.get("id") or ""),
        token=Secret(str(item["token"])),
        created_at=item.get("created_at") if isinstance(item.get("created_at"), int) else None,
        last_used_at=item.get("last_used_at") if isinstance(item.get("last_used_at"), int) else None,
    )


def _code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("code") or "") if isinstance(data, dict) else ""
