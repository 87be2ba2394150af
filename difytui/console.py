"""A session on Dify's console API (``/console/api``), logged in the way Dify's web console does.

Used only by ``difytui workspace import``: list the account's workspaces and apps, read or create the
apps' Service API keys, enable an app's API. Facts (dify-protocol.md B §7):

* the password is sent Base64-encoded (Dify ≥ 1.11.2; older servers take it plain);
* the session lives in cookies (``access_token``, ``csrf_token``; ``__Host-`` prefixed on https) and
  every later call, GETs included, must echo the CSRF cookie in ``X-CSRF-Token``;
* servers ≤ 1.9.1 answered the login with bearer tokens in the body instead of cookies;
* errors raised with flask-restx ``abort`` have a bare ``{"message": …}`` body (no ``code``);
  some failures come with status 200 and ``{"result": "fail", …}``.

Every answer's shape is checked: a body that is not what Dify sends is a :class:`DifyProtocolError`
(one line, naming the call), never an AttributeError or KeyError further on.

The password and every token the console returns are held in :class:`Secret`, so no repr, log line or
exception can show them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from difytui._http import api_error, connection_error, excerpt
from difytui.errors import DifyAPIError, DifyError, DifyProtocolError
from difytui.secrets import Secret

__all__ = ["ApiKey", "ConsoleAPIError", "ConsoleSession", "console_root"]

DEFAULT_TIMEOUT = 30.0
PAGE_LIMIT = 100  # the console's maximum page size
MAX_PAGES = 1000  # a server that always says has_more must not loop forever
_CSRF_COOKIES = ("csrf_token", "__Host-csrf_token")
#: Dify versions before this one take the login password as plain text.
_BASE64_SINCE = (1, 11, 2)
#: ``result`` values of a 200 answer that mean the call failed.
_FAILED_RESULTS = frozenset({"fail", "failed", "failure", "error"})


class ConsoleAPIError(DifyAPIError):
    """A console API error: Dify's message as it stands (no Service-API key hint on a 401)."""

    def __init__(self, status: int, code: str, message: str, *, url: str = "") -> None:
        super().__init__(status, code, message, url=url)
        label = f"{status} {code}".strip()
        self.args = (f"Dify console error {label}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])


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
        #: the account's current workspace as last listed (before any switch of ours)
        self._listed_current: str | None = None
        #: the workspace to switch the account back to: the switch is account-wide in Dify, so the
        #: web console and every other session would otherwise stay in the one we picked
        self._switched_from: str | None = None
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
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
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

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._send(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise self._error(response)
        body = _decode(response, method, path)
        if isinstance(body, dict) and str(body.get("result", "")).lower() in _FAILED_RESULTS:
            code = body.get("code") if isinstance(body.get("code"), str) else ""
            message = _failure_message(body, f"the console refused {method} {path}")
            raise ConsoleAPIError(response.status_code, code or "fail", message, url=str(response.url))
        return body

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A call whose answer must be a JSON object."""
        body = self._call(method, path, **kwargs)
        if not isinstance(body, dict):
            raise _unexpected(method, path, f"an object, got {_shape(body)}")
        return body

    def _list(self, method: str, path: str, key: str, **kwargs: Any) -> list[Any]:
        """A call whose answer must be ``{key: [...]}``."""
        body = self._object(method, path, **kwargs)
        items = body.get(key)
        if not isinstance(items, list):
            raise _unexpected(method, path, f"a {key!r} list, got {_shape(items)}")
        return items

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
        body = _decode(response, "POST", "/login")
        if not isinstance(body, dict) or body.get("result") != "success":
            message = _failure_message(body, "the console refused the login")
            raise ConsoleAPIError(response.status_code, "login_failed", message, url=str(response.url))
        data = body.get("data")
        if isinstance(data, dict) and data.get("access_token"):  # Dify ≤ 1.9.1: tokens in the body
            self._bearer = Secret(str(data["access_token"]))

    def _login(self, email: str, password_field: str) -> httpx.Response:
        payload = {"email": email, "password": password_field, "remember_me": True, "invite_token": None}
        return self._send("POST", "/login", json=payload)

    def logout(self) -> None:
        """End the session on the server (best effort: the cookies die with the client anyway).

        A workspace switch still in place is undone first (also best effort)."""
        with contextlib.suppress(DifyError):
            self.restore_workspace()
        with contextlib.suppress(DifyError):
            self._call("POST", "/logout")
        self._http.cookies.clear()
        self._bearer = None

    @property
    def has_session(self) -> bool:
        """Whether the server may hold a session for us (so :meth:`logout` is worth calling)."""
        return self._bearer is not None or len(self._http.cookies) > 0

    # --- workspaces and apps --------------------------------------------------------------------

    def workspaces(self) -> list[dict[str, Any]]:
        """``[{"id", "name", "current", …}]``: the account's workspaces."""
        items = self._list("GET", "/workspaces", "workspaces")
        workspaces = [_with_id(w) for w in items if isinstance(w, dict) and _id(w)]
        if self._switched_from is None:
            self._listed_current = next((w["id"] for w in workspaces if w.get("current")), None)
        return workspaces

    def switch_workspace(self, workspace_id: str) -> None:
        """Make ``workspace_id`` the account's current workspace (Dify has no per-request workspace
        on the console API). :meth:`restore_workspace` (or :meth:`logout`) switches back."""
        if self._switched_from is None:
            if self._listed_current is None:
                self.workspaces()
            home = self._listed_current
            if home == workspace_id:
                return
            # Recorded before the call: a Ctrl+C during it may still have switched the account.
            self._switched_from = home
        self._call("POST", "/workspaces/switch", json={"tenant_id": workspace_id})

    def restore_workspace(self) -> None:
        """Switch the account back to the workspace that was current before :meth:`switch_workspace`."""
        home = self._switched_from
        if home is None:
            return
        self._call("POST", "/workspaces/switch", json={"tenant_id": home})
        self._switched_from = None

    @property
    def switched(self) -> bool:
        """Whether the account may still be in a workspace this session switched it to."""
        return self._switched_from is not None

    def apps(self) -> list[dict[str, Any]]:
        """Every app of the current workspace (all pages, newest first as Dify orders them)."""
        apps: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = self._object("GET", "/apps", params={"page": page, "limit": PAGE_LIMIT})
            data = body.get("data")
            if not isinstance(data, list):
                raise _unexpected("GET", "/apps", f"a 'data' list, got {_shape(data)}")
            for app in data:
                app_id = _id(app) if isinstance(app, dict) else ""
                if app_id and app_id not in seen:
                    seen.add(app_id)
                    apps.append(_with_id(app))
            if body.get("has_more") is not True or not data:
                break
        return apps

    def app(self, app_id: str) -> dict[str, Any]:
        """The app's detail (``enable_api``, ``mode``, …)."""
        return self._object("GET", f"/apps/{app_id}")

    def api_keys(self, app_id: str) -> list[ApiKey]:
        items = self._list("GET", f"/apps/{app_id}/api-keys", "data")
        return [_api_key(item) for item in items if isinstance(item, dict) and _token(item)]

    def create_api_key(self, app_id: str) -> ApiKey:
        path = f"/apps/{app_id}/api-keys"
        body = self._object("POST", path)
        if not _token(body):
            raise _unexpected("POST", path, "a new key, got an object without a 'token'")
        return _api_key(body)

    def enable_api(self, app_id: str) -> None:
        self._call("POST", f"/apps/{app_id}/api-enable", json={"enable_api": True})


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON body, whatever its shape (the callers check it). Not ``_http.decode_json``: its error
    quotes the body, and a console body may hold a key or a session token."""
    try:
        return json.loads(response.content) if response.content else {}
    except ValueError:
        text = response.content.decode("utf-8", "replace")
        # An HTML page (a proxy's, the web app's) is worth quoting; anything else may be a secret.
        quote = f": {excerpt(text)!r}" if text.lstrip()[:1] == "<" else ""
        raise DifyProtocolError(
            f"the Dify console answered {method} {path} with a body that is not JSON{quote}"
        ) from None


def _unexpected(method: str, path: str, what: str) -> DifyProtocolError:
    # Only the shape is named, never the body: it may hold keys.
    return DifyProtocolError(
        f"the Dify console answered {method} {path} with something unexpected: expected {what}"
    )


def _shape(value: Any) -> str:
    if value is None:
        return "nothing"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _failure_message(body: Any, default: str) -> str:
    """Dify's words for a failed call: ``message``, else a string ``data``."""
    if isinstance(body, dict):
        for key in ("message", "data"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return default


def _id(item: dict[str, Any]) -> str:
    """An item's id as a string ("" when missing or not a scalar)."""
    value = item.get("id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "" else ""


def _with_id(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "id": _id(item)}


def _token(item: dict[str, Any]) -> str:
    value = item.get("token")
    return value if isinstance(value, str) else ""


def _api_key(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=str(item.get("id") or ""),
        token=Secret(_token(item)),
        created_at=item.get("created_at") if isinstance(item.get("created_at"), int) else None,
        last_used_at=item.get("last_used_at") if isinstance(item.get("last_used_at"), int) else None,
    )


def _code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("code") or "") if isinstance(data, dict) else ""
