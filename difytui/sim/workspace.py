"""The account's side of the demo: one account, two workspaces, their apps and the apps' API keys.

The console API (:mod:`.console`) and the account API (:mod:`.openapi`) read and change this one
directory, so a workspace switch, an ``enable_api`` toggle or a new key is seen by both — and a new
key is registered with the Service API (``/v1``) at once.

Besides the six demo apps (whose Service API keys are ``Simulator.api_keys``) there are
console-only apps without a key, so that discovery has something to find: three in the demo
workspace (one with the Service API switched off) and two in a second workspace, "Staging". They
reuse the demo apps' modes and forms under new names, so they run on ``/v1`` like their originals.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .apps import ALL_APPS, DEMO_APPS

_NS = uuid.UUID("9e3b7c21-4a5d-4f6e-8b1a-6469667974e2")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: apps.created_at of the oldest demo app; later apps are an hour apart (newest first in lists)
_EPOCH = 1793520000  # 2026-11-01T00:00:00Z
MAX_KEYS = 10


def sim_uuid(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def iso(ts: int) -> str:
    """Dify's naive ISO timestamps (``2026-11-26T10:29:44.966254``, no zone)."""
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


ACCOUNT = {"id": sim_uuid("account:demo"), "email": "demo@example.com", "name": "Demo User"}
PASSWORD = "difytui-demo"


@dataclass
class Workspace:
    id: str
    name: str
    role: str
    created_at: int
    plan: str = "basic"
    status: str = "normal"


WORKSPACES = [
    Workspace(sim_uuid("workspace:demo"), "Demo Workspace", "owner", _EPOCH - 86400),
    Workspace(sim_uuid("workspace:staging"), "Staging", "admin", _EPOCH - 3600),
]
DEMO_WS, STAGING_WS = (w.id for w in WORKSPACES)

# slug → (copied demo app, workspace, name, description, icon, enable_api)
_CONSOLE_ONLY = {
    "faq-bot": ("support-bot", DEMO_WS, "FAQ Bot", "Answers from the FAQ only.", "❓", True),
    "release-notes": (
        "report-builder",
        DEMO_WS,
        "Release Notes",
        "Drafts release notes from a list of changes.",
        "📰",
        True,
    ),
    "drafts-lab": (
        "copywriter",
        DEMO_WS,
        "Drafts Lab",
        "Experimental copy; its Service API is switched off.",
        "🧪",
        False,
    ),
    "staging-chatflow": (
        "trip-planner",
        STAGING_WS,
        "Trip Planner (staging)",
        "The next version of the trip planner.",
        "🗺️",
        True,
    ),
    "staging-support": (
        "support-bot",
        STAGING_WS,
        "Support Bot (staging)",
        "Support bot with the new prompt.",
        "🛟",
        True,
    ),
}


def _console_only_apps() -> dict[str, dict]:
    apps = {}
    for slug, (origin, _ws, name, description, icon, _enabled) in _CONSOLE_ONLY.items():
        app = copy.deepcopy(ALL_APPS[origin])
        app.update(name=name, description=description, icon=icon, tags=["console"], hidden=False)
        app["uuid"] = sim_uuid("app:" + slug)
        app["workflow_id"] = sim_uuid("workflow:" + slug)
        apps[slug] = app
    return apps


#: Apps that exist only in the console (no key until one is created), by slug.
CONSOLE_ONLY_APPS: dict[str, dict] = _console_only_apps()


@dataclass
class AppRecord:
    """An app as the console knows it; ``definition`` is what the Service API serves for it."""

    slug: str
    definition: dict
    workspace_id: str
    created_at: int
    enable_api: bool = True
    keys: list[dict] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return self.definition["uuid"]

    @property
    def mode(self) -> str:
        return self.definition["mode"]


def key_token(seed: str) -> str:
    digest = hashlib.sha256(f"difytui-sim-key:{seed}".encode()).digest()
    return "app-" + "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:24])


class Directory:
    """Workspaces, apps and keys of the demo account. Thread-safe: tests change it from outside."""

    def __init__(self, demo_keys: dict[str, str], on_new_key: Callable[[str, str], None]) -> None:
        self.account = dict(ACCOUNT)
        self.password = PASSWORD
        self.workspaces = list(WORKSPACES)
        #: the account's current workspace (console switch; default of new device-flow tokens)
        self.current_workspace_id = DEMO_WS
        self.apps: dict[str, AppRecord] = {}  # by uuid
        self._on_new_key = on_new_key
        self._lock = threading.Lock()
        self._created = 0
        ordered = [(slug, DEMO_WS, True) for slug in DEMO_APPS]
        ordered += [(slug, ws, enabled) for slug, (_o, ws, *_r, enabled) in _CONSOLE_ONLY.items()]
        for n, (slug, ws, enabled) in enumerate(ordered):
            definition = DEMO_APPS.get(slug) or CONSOLE_ONLY_APPS[slug]
            record = AppRecord(slug, definition, ws, _EPOCH + 3600 * n, enable_api=enabled)
            if slug in demo_keys:
                record.keys.append(self._key_object(demo_keys[slug], record.created_at))
            self.apps[record.uuid] = record

    # --- lookups --------------------------------------------------------------------------------

    def workspace(self, workspace_id: str | None) -> Workspace | None:
        return next((w for w in self.workspaces if w.id == workspace_id), None)

    def apps_in(self, workspace_id: str) -> list[AppRecord]:
        """The workspace's apps, newest first (Dify orders by created_at desc)."""
        apps = [a for a in self.apps.values() if a.workspace_id == workspace_id]
        return sorted(apps, key=lambda a: a.created_at, reverse=True)

    def by_slug(self, slug: str) -> AppRecord | None:
        return next((a for a in self.apps.values() if a.slug == slug), None)

    def api_enabled(self, slug: str) -> bool:
        record = self.by_slug(slug)
        return record is None or record.enable_api

    # --- changes --------------------------------------------------------------------------------

    @staticmethod
    def _key_object(token: str, created_at: int) -> dict:
        return {
            "id": sim_uuid("api-key:" + token),
            "type": "app",
            "token": token,
            "last_used_at": None,
            "created_at": created_at,
        }

    def create_key(self, record: AppRecord, created_at: int) -> dict | None:
        """A new ``app-…`` key for the app, live on /v1 at once; None when it has MAX_KEYS already."""
        with self._lock:
            if len(record.keys) >= MAX_KEYS:
                return None
            self._created += 1
            key = self._key_object(key_token(f"{record.slug}:{self._created}"), created_at)
            record.keys.append(key)
        self._on_new_key(key["token"], record.slug)
        return key
