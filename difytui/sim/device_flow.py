"""The account API's OAuth device flow and the ``dfoa_`` tokens it mints (protocol part C §1).

Approval happens outside the polling client (a browser in real life): tests call
``Simulator.approve_device`` / ``deny_device`` / ``expire_devices``, which land here from the test
thread while the server thread polls, hence the lock.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .workspace import Directory, sim_uuid

if TYPE_CHECKING:
    from .simulator import Simulator

EXPIRES_IN = 900
TOKEN_TTL = timedelta(days=14)
# Two groups of four from an alphabet without look-alikes (no I, O, 0, 1).
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    label: str
    expires_at: float  # time.monotonic()
    status: str = "pending"  # pending | approved | denied
    last_poll: float | None = None
    grant: dict | None = None  # the success body, minted at approval


@dataclass
class AccountToken:
    token: str
    token_id: str
    client_id: str
    label: str
    workspace_id: str  # default workspace: the console's current one at approval
    expires_at: datetime
    revoked: bool = False


class DeviceFlow:
    def __init__(self, sim: Simulator, directory: Directory) -> None:
        self.sim = sim
        self.dir = directory
        self.codes: dict[str, DeviceCode] = {}  # by device_code, insertion order = age
        self.tokens: dict[str, AccountToken] = {}
        self._n = 0
        self._lock = threading.Lock()
        self.issued = threading.Event()  # set by every new code: tests approve once it exists

    def _digest(self, kind: str) -> bytes:
        self._n += 1  # deterministic: the same sequence of calls gives the same codes and tokens
        return hashlib.sha256(f"difytui-sim:{kind}:{self._n}".encode()).digest()

    # --- the polling client's side ----------------------------------------------------------------

    def issue(self, client_id: str, label: str) -> DeviceCode:
        with self._lock:
            device_code = "dc_" + base64.urlsafe_b64encode(self._digest("device")).decode()[:32]
            letters = [_USER_CODE_ALPHABET[b % len(_USER_CODE_ALPHABET)] for b in self._digest("user")[:8]]
            user_code = "".join(letters[:4]) + "-" + "".join(letters[4:])
            code = DeviceCode(device_code, user_code, client_id, label, time.monotonic() + EXPIRES_IN)
            self.codes[device_code] = code
            self.issued.set()
            return code

    def poll(self, device_code: str) -> tuple[str, dict | None]:
        """("ok", grant) once after approval, else (error code, None)."""
        with self._lock:
            code = self.codes.get(device_code)
            if code is None:
                return "expired_token", None
            now = time.monotonic()
            if code.last_poll is not None and now - code.last_poll < self.sim.device_interval:
                return "slow_down", None  # checked before anything else, as in Dify
            code.last_poll = now
            if now >= code.expires_at:
                del self.codes[device_code]
                return "expired_token", None
            if code.status == "pending":
                return "authorization_pending", None
            del self.codes[device_code]  # denial and success are told exactly once
            if code.status == "denied":
                return "access_denied", None
            return "ok", code.grant

    def lookup(self, user_code: str) -> DeviceCode | None:
        with self._lock:
            code = self._pending(user_code)
            return code

    # --- the approving user's side ----------------------------------------------------------------

    def _pending(self, user_code: str | None) -> DeviceCode | None:
        now = time.monotonic()
        pending = [c for c in self.codes.values() if c.status == "pending" and now < c.expires_at]
        if user_code is None:
            return pending[-1] if pending else None
        wanted = user_code.strip().upper()
        return next((c for c in pending if c.user_code == wanted), None)

    def resolve(self, user_code: str | None, approve: bool) -> DeviceCode | None:
        """Approve (minting the token now, as Dify does) or deny a pending code; None if none."""
        with self._lock:
            code = self._pending(user_code)
            if code is None:
                return None
            code.status = "approved" if approve else "denied"
            if approve:
                code.grant = self._mint(code)
            return code

    def expire_all(self) -> None:
        with self._lock:
            for code in self.codes.values():
                code.expires_at = 0.0

    def _mint(self, code: DeviceCode) -> dict:
        # A new login from the same device replaces that device's token.
        for old in self.tokens.values():
            if (old.client_id, old.label) == (code.client_id, code.label):
                old.revoked = True
        token = "dfoa_" + base64.urlsafe_b64encode(self._digest("token")).decode().rstrip("=")
        record = AccountToken(
            token=token,
            token_id=sim_uuid(f"token:{self._n}"),
            client_id=code.client_id,
            label=code.label,
            workspace_id=self.dir.current_workspace_id,
            expires_at=datetime.now(timezone.utc) + TOKEN_TTL,
        )
        self.tokens[token] = record
        return {
            "token": token,
            "expires_at": record.expires_at.isoformat(),
            "subject_type": "account",
            "account": dict(self.dir.account),
            "workspaces": [{"id": w.id, "name": w.name, "role": w.role} for w in self.dir.workspaces],
            "default_workspace_id": record.workspace_id,
            "token_id": record.token_id,
        }

    # --- tokens -----------------------------------------------------------------------------------

    def token(self, token: str) -> AccountToken | None:
        """A live token (not revoked, not expired)."""
        with self._lock:
            record = self.tokens.get(token)
            if record is None or record.revoked:
                return None
            if record.expires_at <= datetime.now(timezone.utc):
                record.revoked = True  # Dify hard-revokes an expired token on first use
                return None
            return record

    def expire_tokens(self) -> None:
        with self._lock:
            for record in self.tokens.values():
                record.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)

    def revoke(self, record: AccountToken) -> None:
        with self._lock:
            record.revoked = True
