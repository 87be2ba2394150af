"""The TOML configuration: workspaces, their apps and where each app's API key comes from.

Search order: an explicit path (``--config``), ``$DIFYTUI_CONFIG``, then the platform config file
(``paths.default_config_path()``). With no file at all, ``DIFY_BASE_URL`` + ``DIFY_API_KEY`` give a
one-app workspace named ``env``. Every problem is one :class:`ConfigError` carrying ``file:line``.

This module finds and loads the configuration; the data it returns is :mod:`difytui.config_models`
(re-exported here) and the checks with line numbers are :mod:`difytui.config_schema`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from . import paths
from .config_models import (
    DEFAULT_TIMEOUT,
    KEY_CMD_TIMEOUT,
    AppEntry,
    Config,
    RecordsBudget,
    Workspace,
    default_user,
)
from .config_schema import ConfigBuilder
from .errors import ConfigError
from .toml_lines import decode_error
from .urls import url_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_TIMEOUT",
    "KEY_CMD_TIMEOUT",
    "AppEntry",
    "Config",
    "RecordsBudget",
    "Workspace",
    "default_user",
    "find_config_path",
    "load_config",
]

ENV_WORKSPACE = "env"


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
    return ConfigBuilder(where, text, env).build(data)
