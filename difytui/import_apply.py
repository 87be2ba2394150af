"""Applying an import's plan to Dify: for the apps the user picked, reuse a key or create one (only
when ``Choices.create_keys``), enable the API (only when ``Choices.enable_api``), and say where each
key goes in the config. The result is a :class:`WorkspaceUpdate` plus what happened to each app;
:func:`difytui.import_save.save` writes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from difytui.config_writer import AppUpdate, WorkspaceUpdate
from difytui.console import ConsoleSession
from difytui.import_plan import ImportPlan, PlannedApp
from difytui.import_save import check_destination
from difytui.import_workspace import ImportUsageError
from difytui.secrets import Secret

__all__ = [
    "KEY_DESTINATIONS",
    "Choices",
    "ImportResult",
    "KeyDestination",
    "check_key_cmd",
    "env_var_name",
    "execute",
    "key_command",
]

KeyDestination = Literal["config", "env", "cmd"]
KEY_DESTINATIONS: tuple[KeyDestination, ...] = ("config", "env", "cmd")


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
