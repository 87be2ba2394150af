"""Checks a parsed config document and builds the :mod:`difytui.config_models` from it.

tomllib reports no positions for well-formed but wrong documents, so ``toml_lines.Locator`` re-scans
the text for table headers and ``key =`` lines to point every :class:`ConfigError` at its line
(best effort).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config_models import DEFAULT_TIMEOUT, AppEntry, Config, RecordsBudget, Workspace, default_user
from .errors import ConfigError
from .secrets import Secret
from .toml_lines import Locator as _Locator
from .toml_lines import type_name as _type_name
from .urls import url_problem

__all__ = ["ConfigBuilder"]


_TOP_KEYS = ("default_workspace", "keymap", "workspaces", "cases_dir", "records")
#: [records]: the budget of the local run records (difytui.run_records); unset keys keep its defaults
_RECORDS_KEYS = ("max_runs", "max_mb")
_WORKSPACE_KEYS = (
    "kind", "base_url", "user", "timeout", "apps", "deadline",
    # written by `difytui workspace import` so that a re-import finds the same console and workspace
    "console_url", "console_email", "workspace_id",
    # kind = "account": the server whose /openapi/v1 lists and runs the apps (`difytui login`)
    "server",
    "cases_dir",  # the workspace's own test cases (`difytui test`), instead of the top-level one
)  # fmt: skip
_WORKSPACE_KINDS = ("keys", "account")
_APP_KEYS = ("api_key", "api_key_env", "api_key_cmd")
#: Bookkeeping the importer writes next to the key: Dify's app id, its name, and whether it is gone.
_APP_EXTRA_KEYS = ("app_uuid", "name", "deleted")


class ConfigBuilder:
    """Validates a parsed document against the schema; each error names its file:line."""

    def __init__(self, where: str, text: str, env: Mapping[str, str] | None) -> None:
        self.where = where
        self.loc = _Locator(text)
        self.env = env

    def fail(self, message: str, *key_path: str) -> ConfigError:
        return ConfigError(message, self.where, self.loc.line_of(key_path))

    def check_keys(self, table: dict[str, Any], allowed: tuple[str, ...], *table_path: str) -> None:
        for key in table:
            if key in allowed:
                continue
            name = _dotted(table_path) or "the top level"
            name = f"[{name}]" if table_path else name
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(
                f"unknown key {key!r} in {name}{hint}; allowed keys: {', '.join(allowed)}",
                *table_path,
                key,
            )

    def table(self, value: Any, *key_path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{_dotted(key_path)} must be a table", *key_path)
        return value

    def string(self, value: Any, *key_path: str, empty_ok: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{key_path[-1]} must be a string (got {_type_name(value)})", *key_path)
        if not empty_ok and not value.strip():
            raise self.fail(f"{key_path[-1]} must not be empty", *key_path)
        return value

    def build(self, data: dict[str, Any]) -> Config:
        self.check_keys(data, _TOP_KEYS)
        workspaces_raw = self.table(data.get("workspaces", {}), "workspaces")
        if not workspaces_raw:
            raise self.fail("no workspaces defined; add a [workspaces.NAME] table with base_url")
        workspaces = {
            name: self.workspace(name, self.table(raw, "workspaces", name))
            for name, raw in workspaces_raw.items()
        }
        default = ""
        if "default_workspace" in data:
            default = self.string(data["default_workspace"], "default_workspace")
            if default not in workspaces:
                close = difflib.get_close_matches(default, list(workspaces), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    f"default_workspace {default!r} is not a workspace{hint}; "
                    f"defined: {', '.join(workspaces)}",
                    "default_workspace",
                )
        keymap_raw = self.table(data.get("keymap", {}), "keymap")
        keymap = {k: self.string(v, "keymap", k) for k, v in keymap_raw.items()}
        cases_dir = self.folder(data["cases_dir"], "cases_dir") if "cases_dir" in data else None
        records = RecordsBudget()
        if "records" in data:
            records = self.records(self.table(data["records"], "records"))
        for ws in workspaces.values():
            ws.records = records
        return Config(
            path=Path(self.where),
            default_workspace=default,
            workspaces=workspaces,
            keymap=keymap,
            cases_dir=cases_dir,
            records=records,
        )

    def records(self, raw: dict[str, Any]) -> RecordsBudget:
        self.check_keys(raw, _RECORDS_KEYS, "records")
        max_runs = None
        if "max_runs" in raw:
            value = raw["max_runs"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                got = repr(value) if isinstance(value, int) else _type_name(value)
                message = f"max_runs must be a whole number of runs, at least 1 (got {got})"
                raise self.fail(message, "records", "max_runs")
            max_runs = value
        max_bytes = None
        if "max_mb" in raw:
            value = raw["max_mb"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                message = f"max_mb must be a number of megabytes (got {_type_name(value)})"
                raise self.fail(message, "records", "max_mb")
            if not math.isfinite(value) or value < 1:
                raise self.fail(f"max_mb must be at least 1 megabyte (got {value!r})", "records", "max_mb")
            max_bytes = int(value * 1024 * 1024)
        return RecordsBudget(max_runs, max_bytes)

    def workspace(self, name: str, raw: dict[str, Any]) -> Workspace:
        at = ("workspaces", name)
        self.check_keys(raw, _WORKSPACE_KEYS, *at)
        kind = self.string(raw["kind"], *at, "kind") if "kind" in raw else "keys"
        if kind not in _WORKSPACE_KINDS:
            raise self.fail(f"kind must be one of {', '.join(_WORKSPACE_KINDS)} (got {kind!r})", *at, "kind")
        extras = {
            key: self.string(raw[key], *at, key).strip()
            for key in ("console_url", "console_email", "workspace_id", "server")
            if key in raw
        }
        if kind == "account":
            if not extras.get("server"):
                raise self.fail(f"workspace {name!r} of kind 'account' has no server", *at)
            if not extras.get("workspace_id"):
                raise self.fail(f"workspace {name!r} of kind 'account' has no workspace_id", *at)
            self.url(extras["server"], *at, "server")
            raw = {"base_url": extras["server"].rstrip("/") + "/openapi/v1", **raw}
        if "base_url" not in raw:
            raise self.fail(f"workspace {name!r} has no base_url", *at)
        base_url = self.url(self.string(raw["base_url"], *at, "base_url").strip(), *at, "base_url")
        user = self.string(raw["user"], *at, "user").strip() if "user" in raw else default_user()
        timeout = self.seconds(raw["timeout"], *at, "timeout") if "timeout" in raw else DEFAULT_TIMEOUT
        deadline = self.seconds(raw["deadline"], *at, "deadline") if "deadline" in raw else None
        apps_raw = self.table(raw.get("apps", {}), *at, "apps")
        apps = {
            app_id: self.app(app_id, self.table(app_raw, *at, "apps", app_id), *at)
            for app_id, app_raw in apps_raw.items()
        }
        return Workspace(
            name=name,
            base_url=base_url.rstrip("/"),
            user=user,
            apps=apps,
            timeout=timeout,
            deadline=deadline,
            source=self.where,
            kind=kind,
            cases_dir=self.folder(raw["cases_dir"], *at, "cases_dir") if "cases_dir" in raw else None,
            **extras,
        )

    def folder(self, value: Any, *key_path: str) -> Path:
        """A folder: ``~`` expanded, relative to the config file's own folder."""
        return Path(self.where).parent / Path(self.string(value, *key_path)).expanduser()

    def seconds(self, value: Any, *key_path: str) -> float:
        name = key_path[-1]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{name} must be a number of seconds (got {_type_name(value)})", *key_path)
        if not math.isfinite(value) or value <= 0:
            raise self.fail(f"{name} must be a finite number of seconds greater than 0", *key_path)
        return float(value)

    def url(self, value: str, *key_path: str) -> str:
        if not re.match(r"https?://[^/\s]", value, re.IGNORECASE):
            raise self.fail(f"{key_path[-1]} must be an http:// or https:// URL (got {value!r})", *key_path)
        problem = url_problem(value)
        if problem:
            raise self.fail(f"{key_path[-1]} {value!r} is not a valid URL: {problem}", *key_path)
        return value

    def app(self, app_id: str, raw: dict[str, Any], *ws_path: str) -> AppEntry:
        at = (*ws_path, "apps", app_id)
        self.check_keys(raw, _APP_KEYS + _APP_EXTRA_KEYS, *at)
        given = [k for k in _APP_KEYS if k in raw]
        if len(given) != 1:
            problem = "has none" if not given else f"has {len(given)} ({', '.join(given)})"
            raise self.fail(
                f"app {app_id!r} needs exactly one of api_key, api_key_env, api_key_cmd; it {problem}",
                *at,
                *(given[1:2] if given else ()),
            )
        kind = given[0]
        # The value is checked for type only: it is never echoed (it may be the key).
        value = self.string(raw[kind], *at, kind)
        entry = AppEntry(id=app_id, source=self.where, line=self.loc.line_of(at), _env=self.env)
        if "app_uuid" in raw:
            entry.app_uuid = self.string(raw["app_uuid"], *at, "app_uuid").strip()
        if "name" in raw:
            entry.name = self.string(raw["name"], *at, "name", empty_ok=True)
        if "deleted" in raw:
            if not isinstance(raw["deleted"], bool):
                raise self.fail(
                    f"deleted must be true or false (got {_type_name(raw['deleted'])})", *at, "deleted"
                )
            entry.deleted = raw["deleted"]
        if kind == "api_key":
            entry.api_key = Secret(value.strip())
        elif kind == "api_key_env":
            entry.api_key_env = value.strip()
        else:
            entry.api_key_cmd = value
        return entry


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _dotted(key_path: tuple[str, ...] | list[str]) -> str:
    return ".".join(k if _BARE.match(k) else '"' + k.replace('"', '\\"') + '"' for k in key_path)
