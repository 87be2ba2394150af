"""The TOML configuration: workspaces, their apps and where each app's API key comes from.

Search order: an explicit path (``--config``), ``$DIFYTUI_CONFIG``, then the platform config file
(``paths.default_config_path()``). With no file at all, ``DIFY_BASE_URL`` + ``DIFY_API_KEY`` give a
one-app workspace named ``env``. Every problem is one :class:`ConfigError` carrying ``file:line``.

tomllib reports no positions for well-formed but wrong documents, so ``toml_lines.Locator`` re-scans
the text for table headers and ``key =`` lines to point at the offending line (best effort).
"""

from __future__ import annotations

import difflib
import getpass
import math
import os
import re
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import AppNotFoundError, ConfigError
from .secrets import Secret, token_problem
from .toml_lines import Locator as _Locator
from .toml_lines import decode_error
from .toml_lines import type_name as _type_name
from .urls import url_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

__all__ = ["AppEntry", "Config", "RecordsBudget", "Workspace", "find_config_path", "load_config"]

DEFAULT_TIMEOUT = 120.0
KEY_CMD_TIMEOUT = 30.0
ENV_WORKSPACE = "env"

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


def default_user() -> str:
    """``difytui-<login name>``: stable per person, so Dify keeps their conversations together."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name in containers / odd platforms
        login = ""
    return f"difytui-{login}" if login else "difytui-user"


# --------------------------------------------------------------------------------------------
# Data model


@dataclass
class AppEntry:
    """One app of a workspace and the source of its key (exactly one of the three is set)."""

    id: str
    api_key: Secret | None = None
    api_key_env: str | None = None
    api_key_cmd: str | None = None
    app_uuid: str | None = None  # Dify's own id of the app (imported apps, account workspaces)
    name: str | None = None
    deleted: bool = False  # the app was gone from Dify at the last import
    source: str | None = None  # file the app was defined in (for error messages)
    line: int | None = None
    _env: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    _resolved: Secret | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_key(cls, app_id: str, key: str | Secret) -> AppEntry:
        secret = key if isinstance(key, Secret) else Secret(key)
        return cls(id=app_id, api_key=secret)

    def key(self) -> Secret:
        """Resolve the key once (env var or command run lazily) and cache it."""
        with self._lock:
            if self._resolved is None:
                self._resolved = self._resolve()
            return self._resolved

    def _error(self, message: str) -> ConfigError:
        return ConfigError(f"app {self.id!r}: {message}", self.source, self.line)

    def _resolve(self) -> Secret:
        if self.api_key is not None:
            source, value = "api_key", self.api_key.reveal()
        elif self.api_key_env:
            env = os.environ if self._env is None else self._env
            source, value = (
                f"environment variable {self.api_key_env}",
                (env.get(self.api_key_env) or "").strip(),
            )
            if not value:
                raise self._error(f"{source} is not set or empty")
        elif self.api_key_cmd:
            source, value = f"the output of api_key_cmd {self.api_key_cmd!r}", self._run_cmd(self.api_key_cmd)
        else:
            raise self._error("no api_key, api_key_env or api_key_cmd")
        problem = token_problem(value)
        if problem:
            raise self._error(f"the key from {source} is not usable: {problem}")
        return self.api_key if self.api_key is not None else Secret(value)

    def _run_cmd(self, cmd: str) -> str:
        # shell=True: the command is from the user's own config and may use pipes (… | tr -d).
        # Output is never echoed: stdout is the key and stderr may contain parts of it.
        try:
            proc = subprocess.run(
                cmd,
                shell=True,
                capture_output=True,
                text=True,
                timeout=KEY_CMD_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise self._error(f"api_key_cmd {cmd!r} timed out after {KEY_CMD_TIMEOUT:g}s") from None
        except OSError as exc:
            raise self._error(f"api_key_cmd {cmd!r} could not run: {exc.strerror}") from None
        if proc.returncode != 0:
            raise self._error(f"api_key_cmd {cmd!r} failed with exit code {proc.returncode}")
        # Like git's credential helpers and `pass`: the first line is the secret, more lines are notes.
        value = next((line.strip() for line in proc.stdout.splitlines() if line.strip()), "")
        if not value:
            raise self._error(f"api_key_cmd {cmd!r} printed nothing")
        return value


@dataclass(frozen=True)
class RecordsBudget:
    """``[records]``: how many runs, and how many bytes of database, the run records may keep
    (None: :mod:`difytui.run_records`' default)."""

    max_runs: int | None = None
    max_bytes: int | None = None


@dataclass
class Workspace:
    name: str
    base_url: str
    user: str
    apps: dict[str, AppEntry]
    timeout: float = DEFAULT_TIMEOUT
    #: seconds a whole run may take (then it is stopped on the server); None: no limit
    deadline: float | None = None
    source: str = ""  # config file path, or "environment"
    kind: str = "keys"  # "keys": one Service API key per app; "account": an /openapi/v1 login
    server: str = ""  # kind "account": the Dify server (its /openapi/v1 serves the apps)
    workspace_id: str = ""  # Dify's workspace (tenant) id, when known
    console_url: str = ""
    console_email: str = ""
    #: the folder of this workspace's test cases (``difytui test``), when set for it
    cases_dir: Path | None = None
    #: the config's ``[records]`` (one budget for every workspace: they share the database)
    records: RecordsBudget = field(default_factory=RecordsBudget, init=False)

    def app(self, app_id: str) -> AppEntry:
        try:
            return self.apps[app_id]
        except KeyError:
            raise AppNotFoundError(app_id, self.name, list(self.apps)) from None


@dataclass
class Config:
    path: Path | None
    default_workspace: str
    workspaces: dict[str, Workspace]
    keymap: dict[str, str] = field(default_factory=dict)
    #: the folder of the test cases (``difytui test``), when set; else ``cases/`` beside the config
    cases_dir: Path | None = None
    records: RecordsBudget = field(default_factory=RecordsBudget)

    def workspace(self, name: str | None = None) -> Workspace:
        names = ", ".join(self.workspaces) or "none"
        where = str(self.path) if self.path else None
        if name is None:
            name = self.default_workspace
            if not name:
                if len(self.workspaces) == 1:
                    return next(iter(self.workspaces.values()))
                raise ConfigError(
                    f"several workspaces ({names}) and no default_workspace; "
                    "set default_workspace or choose one with --workspace",
                    where,
                )
        try:
            return self.workspaces[name]
        except KeyError:
            raise ConfigError(f"unknown workspace {name!r} (known: {names})", where) from None


# --------------------------------------------------------------------------------------------
# Finding and loading


def _config_dir_path(env: Mapping[str, str]) -> Path:
    override = env.get("DIFYTUI_CONFIG_DIR")
    return Path(override) / "config.toml" if override else paths.default_config_path()


def find_config_path(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: explicit or ``$DIFYTUI_CONFIG`` as given (even if missing, so the
    caller can complain about it), else the default location only when it exists."""
    env = os.environ if env is None else env
    if path:
        return Path(path).expanduser()
    if env.get("DIFYTUI_CONFIG"):
        return Path(env["DIFYTUI_CONFIG"]).expanduser()
    default = _config_dir_path(env)
    return default if default.is_file() else None


def load_config(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    env_map: Mapping[str, str] = os.environ if env is None else env
    found = find_config_path(path, env_map)
    if found is not None:
        if not found.is_file():
            origin = "--config" if path else "DIFYTUI_CONFIG"
            raise ConfigError(f"config file not found (from {origin})", str(found))
        return _load_file(found, env)
    if env_map.get("DIFY_BASE_URL") and env_map.get("DIFY_API_KEY"):
        return _from_environment(env_map)
    raise ConfigError(
        f"no configuration found: `difytui config init` writes a starter {_config_dir_path(env_map)}, "
        "or set DIFY_BASE_URL and DIFY_API_KEY (optionally DIFY_USER and DIFY_APP_ID), "
        "or run with --demo to try difytui against its built-in simulator"
    )


def _from_environment(env: Mapping[str, str]) -> Config:
    base_url = env["DIFY_BASE_URL"].strip()
    if not re.match(r"https?://", base_url, re.IGNORECASE):
        raise ConfigError(f"DIFY_BASE_URL must start with http:// or https:// (got {base_url!r})")
    problem = url_problem(base_url)
    if problem:
        raise ConfigError(f"DIFY_BASE_URL {base_url!r} is not a valid URL: {problem}")
    app_id = env.get("DIFY_APP_ID", "").strip() or "default"
    entry = AppEntry.from_key(app_id, env["DIFY_API_KEY"].strip())
    entry.source = "environment (DIFY_API_KEY)"
    ws = Workspace(
        name=ENV_WORKSPACE,
        base_url=base_url.rstrip("/"),
        user=env.get("DIFY_USER", "").strip() or default_user(),
        apps={app_id: entry},
        source="environment",
    )
    return Config(path=None, default_workspace=ENV_WORKSPACE, workspaces={ENV_WORKSPACE: ws})


def _load_file(path: Path, env: Mapping[str, str] | None) -> Config:
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", where) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = decode_error(exc)
        raise ConfigError(message, where, line) from None
    return _Builder(where, text, env).build(data)


# --------------------------------------------------------------------------------------------
# Validation with line numbers


class _Builder:
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
