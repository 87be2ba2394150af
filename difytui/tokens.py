"""Where ``difytui login`` keeps account tokens: the OS keyring when there is one, else a 0600 file.

Only the token is secret; what the login told us (account, workspaces, expiry) sits next to it in
the file, so `difytui` can show who is logged in without unlocking anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from difytui import paths
from difytui.secrets import Secret

log = logging.getLogger(__name__)

KEYRING_SERVICE = "difytui"


def normalize_server(server: str) -> str:
    return server.strip().rstrip("/")


def _keyring() -> Any | None:
    """The keyring module when a real backend works here (headless Linux usually has none)."""
    if os.environ.get("DIFYTUI_TOKEN_STORAGE", "").lower() == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except Exception:  # not installed, or broken: the file store will do
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:
        return None
    return keyring


class TokenStore:
    def __init__(self, path: Path | None = None, *, use_keyring: bool | None = None) -> None:
        self.path = path or paths.data_dir() / "tokens.json"
        self._keyring = _keyring() if use_keyring is not False else None

    @property
    def storage(self) -> str:
        return "the OS keyring" if self._keyring else str(self.path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "servers": {}}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable token file %s: %s", self.path, exc)
            return {"version": 1, "servers": {}}
        return data if isinstance(data.get("servers"), dict) else {"version": 1, "servers": {}}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        # Created 0600 from the start: the token must never sit readable by others, even briefly.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(temporary, self.path)
        os.chmod(self.path, 0o600)

    def get(self, server: str) -> Secret | None:
        """The token for ``server``; ``DIFY_TOKEN`` wins (for CI and other non-interactive use)."""
        if os.environ.get("DIFY_TOKEN"):
            return Secret(os.environ["DIFY_TOKEN"])
        server = normalize_server(server)
        entry = self._read()["servers"].get(server)
        if not entry:
            return None
        if entry.get("storage") == "keyring":
            if self._keyring is None:
                return None
            try:
                value = self._keyring.get_password(KEYRING_SERVICE, server)
            except Exception as exc:  # locked or broken keyring: as if not logged in, with a reason logged
                log.warning("cannot read the token for %s from the keyring: %s", server, type(exc).__name__)
                return None
            return Secret(value) if value else None
        token = entry.get("token")
        return Secret(token) if token else None

    def info(self, server: str) -> dict[str, Any] | None:
        """What the login returned (account, workspaces, expiry, token id), without the token."""
        entry = self._read()["servers"].get(normalize_server(server))
        return {k: v for k, v in entry.items() if k != "token"} if entry else None

    def save(self, server: str, token: Secret, info: dict[str, Any]) -> None:
        server = normalize_server(server)
        data = self._read()
        entry = {k: v for k, v in info.items() if k != "token"}
        if self._keyring is not None:
            try:
                self._keyring.set_password(KEYRING_SERVICE, server, token.reveal())
                entry["storage"] = "keyring"
            except Exception as exc:  # a locked or broken keyring: fall back to the file
                log.warning(
                    "keyring unavailable (%s); storing the token in %s", type(exc).__name__, self.path
                )
        if entry.get("storage") != "keyring":
            entry["storage"] = "file"
            entry["token"] = token.reveal()
        data["servers"][server] = entry
        self._write(data)

    def delete(self, server: str) -> bool:
        server = normalize_server(server)
        data = self._read()
        entry = data["servers"].pop(server, None)
        if entry is None:
            return False
        if entry.get("storage") == "keyring" and self._keyring is not None:
            with contextlib.suppress(Exception):
                self._keyring.delete_password(KEYRING_SERVICE, server)
        self._write(data)
        return True
