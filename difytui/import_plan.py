"""An import's plan: every app of the workspace with its interface, its existing keys, whether its
API is enabled, and the config id it has (matched by ``app_uuid``, else by its key) or would get.

:func:`slugify` is the package's one slug rule for config ids and workspace names (``difytui
login`` uses it too)."""

from __future__ import annotations

import os
import re
import shlex
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from difytui import config_writer
from difytui.config import AppEntry
from difytui.console import ApiKey, ConsoleSession, console_root
from difytui.errors import ConfigError
from difytui.import_save import ENV_FILE_NAME, check_destination
from difytui.import_workspace import ImportUsageError, workspace_id
from difytui.models import INTERFACE_BY_MODE, INTERFACE_TITLES, MODE_LABELS

__all__ = ["GROUPS", "ImportPlan", "PlannedApp", "build_plan", "config_workspace_name", "slugify"]

GROUPS = (*INTERFACE_TITLES, (None, "Other"))


def slugify(name: str, fallback: str = "app") -> str:
    """``"Support Bot (staging)"`` → ``"support-bot-staging"``; ASCII kebab-case, never empty.

    Public: the one slug rule for config ids and workspace names (``fallback`` when nothing is left)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"['’]", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or fallback


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


@dataclass
class PlannedApp:
    uuid: str
    name: str
    mode: str
    description: str
    enable_api: bool
    keys: list[ApiKey]
    id: str  # its id in the config: the existing table's, or a new unique slug
    in_config: bool = False  # already imported (matched by app_uuid, or by its key)

    @property
    def interface(self) -> str | None:
        return INTERFACE_BY_MODE.get(self.mode)

    @property
    def badge(self) -> str:
        return MODE_LABELS.get(self.mode, self.mode)

    @property
    def reusable_key(self) -> ApiKey | None:
        """The key to reuse: the most recently used, else the newest."""
        if not self.keys:
            return None
        return max(self.keys, key=lambda k: (k.last_used_at or 0, k.created_at or 0))

    @property
    def problem(self) -> str | None:
        """Why the app cannot be imported as it stands (None: it can)."""
        if self.interface is None:
            return f"mode {self.mode!r} cannot be run through the Service API"
        if not self.enable_api:
            return "its Service API is disabled in Dify"
        return None

    @property
    def status(self) -> str:
        """One line for a listing (a key is only ever shown masked)."""
        if self.in_config:
            return "in the config"
        if self.interface is None:
            return self.problem or ""
        parts = [] if self.enable_api else ["API disabled"]
        key = self.reusable_key
        parts.append(f"key {key.token}" if key else "needs a new key")
        return ", ".join(parts)


@dataclass
class ImportPlan:
    console_url: str
    email: str
    workspace_id: str
    workspace_label: str  # Dify's name of the workspace
    config_workspace: str  # the [workspaces.NAME] table it goes into
    base_url: str  # the Service API the keys work on
    apps: list[PlannedApp]
    #: config id → (app_uuid, name) of imported apps that are no longer in Dify
    gone: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the config the plan was made from (:func:`execute` checks it can still be written)
    config_path: Path | None = None

    def groups(self) -> list[tuple[str, list[PlannedApp]]]:
        """(title, apps) by interface, in the console's order: Chat, Workflow, Completion, Other."""
        out = []
        for interface, title in GROUPS:
            apps = [app for app in self.apps if app.interface == interface]
            if apps:
                out.append((title, apps))
        return out

    @property
    def new_apps(self) -> list[PlannedApp]:
        """The apps not in the config yet, in the order of :meth:`groups` (how a UI lists them)."""
        return [app for _, apps in self.groups() for app in apps if not app.in_config]

    def select(self, names: Iterable[str]) -> list[PlannedApp]:
        """Apps by config id, Dify name (any case) or uuid; unknown names → :class:`ImportUsageError`."""
        chosen: list[PlannedApp] = []
        for raw in names:
            key = raw.strip().lower()
            if not key:
                continue
            match = next(
                (a for a in self.apps if key in (a.id.lower(), a.name.lower(), a.uuid.lower())), None
            )
            if match is None:
                known = ", ".join(a.id for a in self.apps)
                raise ImportUsageError(f"no app {raw.strip()!r} in this workspace (it has: {known})")
            if match not in chosen:
                chosen.append(match)
        return chosen


def config_workspace_name(
    doc: Mapping[str, Any], wanted: str | None, console_url: str, workspace: dict[str, Any]
) -> str:
    """The config workspace to write: ``wanted``, the one imported from this Dify workspace before,
    or a new slug of Dify's workspace name."""
    ws_id = workspace_id(workspace)
    if wanted:
        settings = config_writer.workspace_settings(doc, wanted) or {}
        if settings.get("workspace_id") and settings["workspace_id"] != ws_id:
            raise ImportUsageError(
                f"config workspace {wanted!r} was imported from another Dify workspace "
                f"({settings['workspace_id']}); choose another --workspace name"
            )
        return wanted
    for name in config_writer.workspace_names(doc):
        settings = config_writer.workspace_settings(doc, name) or {}
        same_console = console_root(str(settings.get("console_url") or "http://-")) == console_url
        if settings.get("workspace_id") == ws_id and same_console:
            return name
    return _unique(slugify(str(workspace.get("name") or ""), "dify"), set(config_writer.workspace_names(doc)))


def build_plan(
    session: ConsoleSession,
    *,
    email: str,
    workspace: dict[str, Any],
    config_path: Path,
    config_workspace: str | None = None,
) -> ImportPlan:
    """Read the workspace's apps, their details and keys, and match them with the config.

    Raises :class:`ConfigError` first when the config cannot be written (:func:`check_destination`)."""
    check_destination(config_path)
    doc = config_writer.load_document(config_path)
    name = config_workspace_name(doc, config_workspace, session.console_url, workspace)
    existing = config_writer.existing_apps(doc, name)
    by_uuid = {str(t["app_uuid"]): app_id for app_id, t in existing.items() if t.get("app_uuid")}
    by_key = _config_keys(existing, config_path)
    taken = set(existing)
    base_url = ""
    planned: list[PlannedApp] = []
    for item in session.apps():
        uuid = str(item["id"])
        detail = session.app(uuid)
        keys = session.api_keys(uuid)
        base_url = base_url or str(detail.get("api_base_url") or "")
        config_id = by_uuid.get(uuid) or next(
            (by_key[k.token.reveal()] for k in keys if k.token.reveal() in by_key), None
        )
        app_name = str(item.get("name") or detail.get("name") or uuid)
        planned.append(
            PlannedApp(
                uuid=uuid,
                name=app_name,
                mode=str(item.get("mode") or detail.get("mode") or ""),
                description=str(item.get("description") or ""),
                enable_api=bool(detail.get("enable_api", True)),
                keys=keys,
                id=config_id or _unique(slugify(app_name), taken),
                in_config=config_id is not None,
            )
        )
    live = {app.uuid for app in planned}
    gone = {
        app_id: (str(table["app_uuid"]), str(table.get("name") or ""))
        for app_id, table in existing.items()
        if table.get("app_uuid") and str(table["app_uuid"]) not in live
    }
    return ImportPlan(
        console_url=session.console_url,
        email=email,
        workspace_id=workspace_id(workspace),
        workspace_label=str(workspace.get("name") or workspace_id(workspace)),
        config_workspace=name,
        base_url=(base_url or session.console_url + "/v1").rstrip("/"),
        apps=planned,
        gone=gone,
        config_path=config_path,
    )


def _config_keys(existing: Mapping[str, Mapping[str, Any]], config_path: Path) -> dict[str, str]:
    """key → config id, for the apps whose key the config gives through any of its sources:
    ``api_key``; for apps without ``app_uuid`` (hand-written ones) also ``api_key_env`` (the
    environment, else the env file an import wrote beside the config) and ``api_key_cmd`` (run as
    the console would run it)."""
    env_file: dict[str, str] | None = None
    found: dict[str, str] = {}
    for app_id, table in existing.items():
        value: str | None = None
        if table.get("api_key"):
            value = table["api_key"].reveal()
        elif table.get("app_uuid"):
            pass  # matched by its uuid: no need to read its key
        elif isinstance(table.get("api_key_env"), str):
            name = table["api_key_env"].strip()
            if not os.environ.get(name) and env_file is None:
                env_file = _env_file_values(config_path.parent / ENV_FILE_NAME)
            value = os.environ.get(name) or (env_file or {}).get(name)
        elif isinstance(table.get("api_key_cmd"), str):
            try:
                value = AppEntry(id=app_id, api_key_cmd=table["api_key_cmd"]).key().reveal()
            except ConfigError:
                value = None  # a command that fails here fails in the console too; it is not a match
        if value and value.strip():
            found.setdefault(value.strip(), app_id)
    return found


def _env_file_values(path: Path) -> dict[str, str]:
    """``export NAME='value'`` lines of an import's env file (empty when there is none)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in lines:
        match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if match:
            try:
                words = shlex.split(match.group(2))
            except ValueError:
                continue
            values[match.group(1)] = words[0] if words else ""
    return values
