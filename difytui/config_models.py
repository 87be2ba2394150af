"""The configuration's data: workspaces, their apps, and each app's key, resolved on first use.

An app's key comes from exactly one source: ``api_key`` (in the file), ``api_key_env`` (an
environment variable) or ``api_key_cmd`` (a command's first line of output, like git's credential
helpers). :mod:`difytui.config` builds these from a file or the environment.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AppNotFoundError, ConfigError
from .secrets import Secret, token_problem

__all__ = ["AppEntry", "Config", "RecordsBudget", "Workspace", "default_user"]

DEFAULT_TIMEOUT = 120.0
KEY_CMD_TIMEOUT = 30.0


def default_user() -> str:
    """``difytui-<login name>``: stable per person, so Dify keeps their conversations together."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name in containers / odd platforms
        login = ""
    return f"difytui-{login}" if login else "difytui-user"


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
