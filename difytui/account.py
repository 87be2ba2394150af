"""Logging in to a Dify server's account API (``/openapi/v1``) with the OAuth device flow.

The user approves a short code in the browser; meanwhile we poll for the token. Dify 1.14.2 only
accepts client ids listed in the server's ``OPENAPI_KNOWN_CLIENT_IDS`` (default: ``difyctl``).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from difytui._http import api_error, connection_error, decode_json
from difytui.errors import DifyAPIError, DifyError
from difytui.secrets import Secret
from difytui.tokens import normalize_server

DEFAULT_CLIENT_ID = "difyctl"
SLOW_DOWN_STEP = 5.0  # seconds added to the poll interval on `slow_down` (RFC 8628 §3.5)


class LoginError(DifyError):
    """The device flow ended without a token; ``reason`` is the server's error code."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_in: float
    interval: float


@dataclass
class Login:
    token: Secret
    account: dict[str, Any]
    workspaces: list[dict[str, Any]]
    default_workspace_id: str
    expires_at: str
    token_id: str

    def info(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "workspaces": self.workspaces,
            "default_workspace_id": self.default_workspace_id,
            "expires_at": self.expires_at,
            "token_id": self.token_id,
        }


def device_label() -> str:
    return f"difytui on {socket.gethostname() or 'this machine'}"


class AccountClient:
    """The handful of account-API calls that logging in and out needs."""

    def __init__(
        self, server: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 30
    ) -> None:
        self.server = normalize_server(server)
        self.base = self.server + "/openapi/v1"
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AccountClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, method: str, path: str, *, token: Secret | None = None, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token.reveal()}"} if token else {}
        url = self.base + path
        try:
            return self._http.request(method, url, headers=headers, json=json)
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise api_error(response, response.content)
        return decode_json(response, response.content)

    def version(self) -> dict[str, Any]:
        """``/_version``; a clear error when the server has no account API (or is not Dify)."""
        response = self._send("GET", "/_version")
        if response.status_code == 404:
            raise DifyError(
                f"{self.server} does not offer Dify's account API (/openapi/v1): it needs Dify 1.14 or later "
                "with OPENAPI_ENABLED=true. Use per-app API keys, or `difytui workspace import`, instead."
            )
        if response.status_code >= 400:
            raise api_error(response, response.content)
        return decode_json(response, response.content)

    def request_code(self, client_id: str = DEFAULT_CLIENT_ID, label: str | None = None) -> DeviceCode:
        response = self._send(
            "POST",
            "/oauth/device/code",
            json={"client_id": client_id, "device_label": label or device_label()},
        )
        body = decode_json(response, response.content)
        if response.status_code >= 400:
            self._device_error(body, client_id, response)
        return DeviceCode(
            device_code=body["device_code"],
            user_code=body["user_code"],
            verification_uri=body["verification_uri"],
            expires_in=float(body.get("expires_in", 900)),
            interval=float(body.get("interval", 5)),
        )

    def poll(
        self,
        code: DeviceCode,
        client_id: str = DEFAULT_CLIENT_ID,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Login:
        """Poll every ``interval`` seconds until the user approves (or denies, or the code expires)."""
        interval = code.interval
        deadline = clock() + code.expires_in
        while True:
            sleep(interval)
            response = self._send(
                "POST", "/oauth/device/token", json={"device_code": code.device_code, "client_id": client_id}
            )
            body = decode_json(response, response.content)
            if response.status_code < 400:
                return Login(
                    token=Secret(body["token"]),
                    account=body.get("account") or {},
                    workspaces=body.get("workspaces") or [],
                    default_workspace_id=body.get("default_workspace_id") or "",
                    expires_at=body.get("expires_at") or "",
                    token_id=body.get("token_id") or "",
                )
            reason = body.get("error") if isinstance(body, dict) else None
            if reason == "authorization_pending":
                pass
            elif reason == "slow_down":
                interval += SLOW_DOWN_STEP
            elif response.status_code >= 500:
                pass  # a passing server error: keep polling until the code expires
            else:
                self._device_error(body, client_id, response)
            if clock() > deadline:
                raise LoginError("expired_token", "the code expired before it was approved: run login again")

    def _device_error(self, body: Any, client_id: str, response: httpx.Response) -> None:
        reason = body.get("error") if isinstance(body, dict) else None
        if reason == "unsupported_client":
            raise LoginError(
                reason,
                f"the server does not accept the client id {client_id!r}. Its operator must add it to "
                f"OPENAPI_KNOWN_CLIENT_IDS (the default list has only {DEFAULT_CLIENT_ID!r}), or pass an "
                "accepted one with --client-id",
            )
        if reason == "access_denied":
            raise LoginError(reason, "the login was denied in the browser")
        if reason == "expired_token":
            raise LoginError(reason, "the code expired (or was already used): run login again")
        raise api_error(response, response.content)

    def account(self, token: Secret) -> dict[str, Any]:
        account: dict[str, Any] = self._json("GET", "/account", token=token)
        return account

    def workspaces(self, token: Secret) -> list[dict[str, Any]]:
        return self._json("GET", "/workspaces", token=token).get("workspaces") or []

    def revoke(self, token: Secret) -> None:
        """Revoke the calling token on the server (what logging out means)."""
        try:
            self._json("DELETE", "/account/sessions/self", token=token)
        except DifyAPIError as error:
            if error.status not in (401, 500):  # already invalid: nothing left to revoke
                raise
