"""Import a Dify workspace's apps from the console into the config: the logic the CLI and TUI share.

The steps, each usable on its own by a UI:

1. :func:`login` — a :class:`ConsoleSession` logged in; :func:`pick_workspace` chooses among the
   account's workspaces (or says the user must); steps 2 and 3 run ``with in_workspace(…)``, which
   switches the account to it and back again afterwards (Dify's switch is account-wide: the web
   console and every other session would otherwise land there too).
2. :func:`build_plan` — every app of the workspace with its interface, its existing keys, whether
   its API is enabled, and the config id it has (matched by ``app_uuid``) or would get.
3. :func:`execute` — for the apps the user picked: reuse a key, or create one (only when
   ``Choices.create_keys``), enable the API (only when ``Choices.enable_api``); the result is a
   :class:`WorkspaceUpdate` plus what happened to each app.
4. :func:`save` — write the config (and the env file) with :mod:`config_writer`.

:func:`check_destination` says early whether step 4 can succeed; :func:`build_plan` and :func:`execute`
run it themselves, so no key is created for an import whose config cannot be written.

Nothing here prints or prompts; keys stay in :class:`Secret` until written to a 0600 file.

:func:`slugify` and :func:`default_config_path` are the package's single versions of those helpers
(``difytui login`` uses them too).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from difytui import config_writer, paths
from difytui.config_writer import AppUpdate, WorkspaceUpdate
from difytui.console import ApiKey, ConsoleSession, console_root
from difytui.errors import DifyError, DifyProtocolError
from difytui.models import INTERFACE_BY_MODE, INTERFACE_TITLES, MODE_LABELS
from difytui.secrets import Secret

__all__ = [
    "Choices",
    "ImportPlan",
    "ImportResult",
    "ImportUsageError",
    "PlannedApp",
    "build_plan",
    "check_destination",
    "default_config_path",
    "env_file_path",
    "execute",
    "in_workspace",
    "login",
    "pick_workspace",
    "save",
    "slugify",
    "use_workspace",
]

KeyDestination = Literal["config", "env", "cmd"]
KEY_DESTINATIONS: tuple[KeyDestination, ...] = ("config", "env", "cmd")
ENV_FILE_NAME = "difytui-keys.env"
GROUPS = (*INTERFACE_TITLES, (None, "Other"))


class ImportUsageError(DifyError):
    """The import needs a choice it was not given (a flag, or an answer only a terminal can give)."""


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


# --- 1. session and workspace --------------------------------------------------------------------


def login(console_url: str, email: str, password: str | Secret, **session_kwargs: Any) -> ConsoleSession:
    """A logged-in session; closed again if the login fails or is interrupted."""
    session = ConsoleSession(console_url, **session_kwargs)
    try:
        session.login(email, password)
    except BaseException:
        # Ctrl+C may land after the server opened the session: end it there too.
        if session.has_session:
            # A second Ctrl+C here is swallowed: the first one is what the caller reports.
            with contextlib.suppress(Exception, KeyboardInterrupt):
                session.logout()
        session.close()
        raise
    return session


def pick_workspace(workspaces: list[dict], wanted: str | None = None) -> dict | None:
    """The workspace named or identified by ``wanted``, the only one, or None (the user must choose).

    Raises :class:`ImportUsageError` when ``wanted`` matches nothing or there is no workspace."""
    if not workspaces:
        raise ImportUsageError("this account has no workspace")
    if wanted:
        key = wanted.strip().lower()
        for ws in workspaces:
            if key in (str(ws.get("id", "")).lower(), str(ws.get("name", "")).lower()):
                return ws
        names = ", ".join(repr(ws.get("name")) for ws in workspaces)
        raise ImportUsageError(f"no Dify workspace {wanted!r} (this account has {names})")
    return workspaces[0] if len(workspaces) == 1 else None


def use_workspace(session: ConsoleSession, workspace: dict) -> None:
    """Make ``workspace`` the session's current one (apps and keys are listed for the current one).

    Prefer :func:`in_workspace`, which also switches back; after this, call
    ``session.restore_workspace()`` (or ``session.logout()``, which does it)."""
    if not workspace.get("current"):
        session.switch_workspace(_workspace_id(workspace))


@contextlib.contextmanager
def in_workspace(session: ConsoleSession, workspace: dict) -> Iterator[None]:
    """Switch the account to ``workspace`` for the block, then back to the workspace that was current,
    on errors and Ctrl+C too. Keep the block short: while it runs, the account's other sessions (the
    web console) see the switched workspace.

    A failed switch back is raised when the block succeeded; after a failed block its error is the
    one reported (``session.logout()`` tries the switch back once more)."""
    use_workspace(session, workspace)
    try:
        yield
    except BaseException:
        with contextlib.suppress(DifyError):
            session.restore_workspace()
        raise
    try:
        session.restore_workspace()
    except DifyError as error:
        raise DifyError(
            f"could not switch the Dify account back to its previous workspace: {error}"
        ) from None


def _workspace_id(workspace: Mapping[str, Any]) -> str:
    value = workspace.get("id") if isinstance(workspace, Mapping) else None
    if not isinstance(value, (str, int)) or value == "":
        raise DifyProtocolError("the Dify console listed a workspace without an id")
    return str(value)


# --- 2. the plan ---------------------------------------------------------------------------------


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
    doc: Mapping[str, Any], wanted: str | None, console_url: str, workspace: dict
) -> str:
    """The config workspace to write: ``wanted``, the one imported from this Dify workspace before,
    or a new slug of Dify's workspace name."""
    ws_id = _workspace_id(workspace)
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
    workspace: dict,
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
    by_key = {t["api_key"].reveal(): app_id for app_id, t in existing.items() if t.get("api_key")}
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
        workspace_id=_workspace_id(workspace),
        workspace_label=str(workspace.get("name") or _workspace_id(workspace)),
        config_workspace=name,
        base_url=(base_url or session.console_url + "/v1").rstrip("/"),
        apps=planned,
        gone=gone,
        config_path=config_path,
    )


# --- 3. doing it ---------------------------------------------------------------------------------


@dataclass
class Choices:
    selected: list[PlannedApp]  # new apps to import (apps already in the config are always kept)
    create_keys: bool = False  # the user confirmed creating keys for apps that have none
    enable_api: bool = False  # the user asked to enable the API of apps that have it off
    keys: KeyDestination = "config"
    key_cmd: str = "pass show dify/{workspace}/{app}"
    env_file: Path | None = None  # default: difytui-keys.env beside the config


@dataclass
class ImportResult:
    plan: ImportPlan
    update: WorkspaceUpdate
    imported: list[tuple[PlannedApp, str]] = field(default_factory=list)  # (app, what was done)
    skipped: list[tuple[PlannedApp, str]] = field(default_factory=list)  # (app, why)
    env_values: dict[str, Secret] = field(default_factory=dict)
    env_file: Path | None = None
    cmd_entries: list[tuple[PlannedApp, str, Secret]] = field(default_factory=list)  # app, command, key

    @property
    def created(self) -> int:
        return sum(1 for _, how in self.imported if how.startswith("created"))


def env_var_name(workspace: str, app_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", f"DIFY_KEY_{workspace}_{app_id}".upper()).strip("_")


def key_command(template: str, workspace: str, app: PlannedApp) -> str:
    # Plain replacement, not str.format: shell commands have braces of their own (awk '{print $1}').
    return template.replace("{app}", app.id).replace("{workspace}", workspace).replace("{uuid}", app.uuid)


def check_key_cmd(template: str) -> None:
    if "{app}" not in template and "{uuid}" not in template:
        raise ImportUsageError(
            f"--key-cmd {template!r} must contain {{app}} (or {{uuid}}) so each app gets its own key"
        )


def execute(session: ConsoleSession, plan: ImportPlan, choices: Choices) -> ImportResult:
    """Enable APIs and create keys as allowed by ``choices``; build the workspace update.

    Before changing anything in Dify it checks that the config (and, for ``keys="env"``, the env file)
    can still be written: a key created for a config that cannot take it would be stranded."""
    if choices.keys == "cmd":
        check_key_cmd(choices.key_cmd)
    if plan.config_path is not None:
        check_destination(plan.config_path, choices)
    ws = plan.config_workspace
    update = WorkspaceUpdate(
        name=ws,
        settings={
            "console_url": plan.console_url,
            "console_email": plan.email,
            "workspace_id": plan.workspace_id,
        },
        defaults={"base_url": plan.base_url},
    )
    result = ImportResult(plan=plan, update=update)
    selected = {app.uuid for app in choices.selected}
    for app in plan.apps:
        if app.in_config:  # keep the user's key source; refresh the name, undo a "deleted" mark
            update.apps.append(AppUpdate(app.id, app.uuid, app.name))
            continue
        if app.uuid not in selected:
            continue
        token, how = _ensure_ready(session, app, choices, result)
        if token is None:
            continue
        update.apps.append(
            AppUpdate(app.id, app.uuid, app.name, _key_source(ws, app, token, choices, result))
        )
        result.imported.append((app, how))
    for app_id, (uuid, name) in plan.gone.items():
        update.apps.append(AppUpdate(app_id, uuid, name, deleted=True))
    return result


def _ensure_ready(
    session: ConsoleSession, app: PlannedApp, choices: Choices, result: ImportResult
) -> tuple[Secret | None, str]:
    if app.interface is None:
        result.skipped.append((app, app.problem or "unsupported mode"))
        return None, ""
    key = app.reusable_key
    if key is None and not choices.create_keys:
        result.skipped.append((app, "it has no API key; creating one needs confirmation (--yes)"))
        return None, ""
    enabled_now = False
    if not app.enable_api:
        if not choices.enable_api:
            result.skipped.append((app, "its Service API is disabled in Dify (enable it with --enable-api)"))
            return None, ""
        session.enable_api(app.uuid)
        app.enable_api = enabled_now = True
    if key is None:
        key = session.create_api_key(app.uuid)
        app.keys.append(key)
        how = "created a key"
    else:
        how = "reused its key"
    return key.token, how + (", enabled its API" if enabled_now else "")


def _key_source(
    workspace: str, app: PlannedApp, token: Secret, choices: Choices, result: ImportResult
) -> tuple[str, str | Secret]:
    if choices.keys == "env":
        name = env_var_name(workspace, app.id)
        result.env_values[name] = token
        return ("api_key_env", name)
    if choices.keys == "cmd":
        command = key_command(choices.key_cmd, workspace, app)
        result.cmd_entries.append((app, command, token))
        return ("api_key_cmd", command)
    return ("api_key", token)


# --- 4. writing ----------------------------------------------------------------------------------


def default_config_path(config_path: str | Path | None = None) -> Path:
    """The config file to write: ``--config``, ``$DIFYTUI_CONFIG`` (``~`` expanded), else the user
    config file, which need not exist yet.

    Public: the one answer for every command that writes the config (import, login)."""
    from difytui.config import find_config_path

    # The reader's own lookup, so the file written is always the file that will be read.
    return find_config_path(config_path) or paths.default_config_path()


def env_file_path(config_path: Path, choices: Choices) -> Path:
    """Where ``keys="env"`` writes the keys: ``choices.env_file``, else beside the config."""
    return choices.env_file or config_path.parent / ENV_FILE_NAME


def check_destination(config_path: Path, choices: Choices | None = None) -> None:
    """Raise :class:`ConfigError` unless :func:`save` could write the config (and, for ``keys="env"``,
    the env file) now. Cheap and side-effect free: call it before logging in."""
    config_writer.check_writable(config_path)
    if choices is not None and choices.keys == "env":
        config_writer.check_writable(env_file_path(config_path, choices), toml=False)


def save(result: ImportResult, config_path: Path, choices: Choices) -> None:
    """Write the env file first (the config will point at it), then the config."""
    if result.env_values:
        result.env_file = env_file_path(config_path, choices)
        config_writer.upsert_env_file(
            result.env_file,
            result.env_values,
            header="Dify Service API keys written by `difytui workspace import` (keep this file private).\n"
            f"Load them before running difytui:  . {result.env_file}",
        )
    doc = config_writer.load_document(config_path)
    config_writer.apply_update(doc, result.update)
    config_writer.write_config(config_path, doc)
