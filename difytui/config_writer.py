"""Style-preserving writes of the TOML config (tomlkit): upsert one workspace, keep everything else.

The user's comments, key order, other workspaces, ``[keymap]`` and hand edits survive an import.
Files are written atomically (temporary file + rename) with mode 0600: they may hold API keys.
Every failure is a :class:`ConfigError` naming the file and the reason, never a bare ``OSError``;
:func:`check_writable` finds most of them before anything irreversible happens (a login, a new key).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from difytui.errors import ConfigError
from difytui.secrets import Secret

__all__ = [
    "KEY_SOURCES",
    "AppUpdate",
    "WorkspaceUpdate",
    "apply_update",
    "check_writable",
    "existing_apps",
    "load_document",
    "upsert_env_file",
    "write_config",
]

KEY_SOURCES = ("api_key", "api_key_env", "api_key_cmd")


@dataclass
class AppUpdate:
    """What an import says about one app table. ``key`` is None to keep the table's key source."""

    id: str
    app_uuid: str
    name: str
    key: tuple[str, str | Secret] | None = None  # (one of KEY_SOURCES, value)
    deleted: bool = False


@dataclass
class WorkspaceUpdate:
    name: str
    settings: dict[str, str] = field(default_factory=dict)  # always written (console_url, …)
    defaults: dict[str, str] = field(default_factory=dict)  # written only when absent (base_url)
    apps: list[AppUpdate] = field(default_factory=list)


def load_document(path: Path) -> tomlkit.TOMLDocument:
    """The config as a tomlkit document (an empty one when the file does not exist yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # the write says why it cannot be created
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file: {getattr(exc, 'strerror', None) or exc}", str(path)
        ) from None
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", str(path)) from None


def existing_apps(doc: Mapping[str, Any], workspace: str) -> dict[str, dict[str, Any]]:
    """app id → its table as plain values, for matching by ``app_uuid`` (or by key: an ``api_key``
    value comes as a :class:`Secret`, so it cannot leak from here)."""
    apps = _get(doc, "workspaces", workspace, "apps")
    result: dict[str, dict[str, Any]] = {}
    for app_id, table in apps.items() if isinstance(apps, Mapping) else ():
        if isinstance(table, Mapping):
            values = {key: _plain(value) for key, value in table.items()}
            if "api_key" in values:
                values["api_key"] = Secret(str(values["api_key"]))
            result[str(app_id)] = values
    return result


def workspace_settings(doc: Mapping[str, Any], workspace: str) -> dict[str, Any] | None:
    """The workspace table's scalar settings, or None when the workspace does not exist."""
    ws = _get(doc, "workspaces", workspace)
    if not isinstance(ws, Mapping):
        return None
    return {k: _plain(v) for k, v in ws.items() if k != "apps"}


def workspace_names(doc: Mapping[str, Any]) -> list[str]:
    workspaces = _get(doc, "workspaces")
    return [str(name) for name in workspaces] if isinstance(workspaces, Mapping) else []


def _plain(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _get(root: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(root, Mapping) or key not in root:
            return None
        root = root[key]
    return root


def _table(parent: Any, key: str) -> Any:
    if key not in parent:
        table = tomlkit.table(is_super_table=key in ("workspaces", "apps"))
        parent[key] = table
    return parent[key]


def _set(table: Any, key: str, value: Any) -> None:
    """Set ``key`` in place (its comment stays); a new key goes after the table's last value, so it
    does not land below a comment that introduces the next table."""
    if key in table:
        if table[key] != value:
            table[key] = value
        return
    container = getattr(table, "value", None)
    body = getattr(container, "body", None)
    last = None
    for item_key, item in body or []:
        if item_key is not None and not isinstance(item, (Table, AoT)):
            last = item_key.key
    if container is not None and last is not None:
        try:
            container._insert_after(last, key, value)
            if isinstance(table, dict):  # tomlkit tables mirror their container in a dict: keep it in step
                dict.__setitem__(table, key, container.item(key))
            return
        except Exception:  # tomlkit internals changed: a plain append is still correct TOML
            pass
    table[key] = value


def apply_update(doc: tomlkit.TOMLDocument, update: WorkspaceUpdate) -> None:
    """Upsert ``update`` into ``doc``: only the keys the import owns are touched."""
    if "workspaces" not in doc and "default_workspace" not in doc:
        # A new file: the first workspace is the default (top-level keys must precede the tables).
        _set(doc, "default_workspace", update.name)
    ws = _table(_table(doc, "workspaces"), update.name)
    for key, value in update.defaults.items():
        if key not in ws:
            _set(ws, key, value)
    for key, value in update.settings.items():
        _set(ws, key, value)
    if update.apps:
        apps = _table(ws, "apps")
        for app in update.apps:
            _apply_app(apps, app)


def _apply_app(apps: Any, app: AppUpdate) -> None:
    table = apps.get(app.id)
    if table is None:
        table = tomlkit.table()
        _fill_app(table, app)
        table.add(tomlkit.nl())  # a blank line before whatever table follows
        apps[app.id] = table
    else:
        _fill_app(table, app)


def _fill_app(table: Any, app: AppUpdate) -> None:
    _set(table, "name", app.name)
    _set(table, "app_uuid", app.app_uuid)
    if app.key is not None:
        kind, value = app.key
        for other in KEY_SOURCES:
            if other != kind and other in table:
                del table[other]
        _set(table, kind, value.reveal() if isinstance(value, Secret) else value)
    if app.deleted:
        _set(table, "deleted", True)
    elif "deleted" in table:
        del table["deleted"]


def check_writable(path: str | Path, *, toml: bool = True) -> None:
    """Raise :class:`ConfigError` unless :func:`write_config` (``toml=False``: :func:`upsert_env_file`)
    could write ``path`` now: its directory exists or can be created and takes new files, and the file,
    if present, is a readable, writable regular file (``toml``: one that parses).

    Call it before anything irreversible (logging in, creating keys) so a doomed run fails first.
    It leaves nothing behind: a probe file and any directory it had to create are removed again."""
    path = Path(path).expanduser()
    what = "config file" if toml else "file"
    target = Path(os.path.realpath(path))
    if target.exists():
        if not target.is_file():
            raise ConfigError(f"cannot write the {what}: it is not a regular file", str(path))
        if toml:
            load_document(target)
        else:
            _read_lines(target, what)
        if not os.access(target, os.W_OK):
            raise ConfigError(f"cannot write the {what}: permission denied", str(path))
    created: list[Path] = []
    try:
        created = _make_dirs(target.parent, path, what)
        _write_private_temp(target, "", what).unlink(missing_ok=True)
    finally:
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                directory.rmdir()


def write_config(path: Path, doc: tomlkit.TOMLDocument) -> None:
    """Validate the new text with the config loader, then replace ``path`` atomically (mode 0600)."""
    from difytui.config import load_config

    text = tomlkit.dumps(doc)
    target = Path(os.path.realpath(path))
    temporary = _write_private_temp(target, text, "config file", shown=path)
    try:
        try:
            load_config(temporary, env={})
        except ConfigError as error:
            raise ConfigError(f"the new config would be invalid: {error.message}", str(path)) from None
        _commit(temporary, target, "config file", shown=path)
    except BaseException:  # Ctrl+C included: never leave the temporary file behind
        temporary.unlink(missing_ok=True)
        raise


def upsert_env_file(path: Path, values: Mapping[str, Secret], *, header: str = "") -> None:
    """Set ``export NAME='value'`` lines in a 0600 shell file, keeping its other lines."""
    target = Path(os.path.realpath(path))
    lines = _read_lines(target, "file", shown=path)
    if lines is None:
        lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", line)
        if match and match.group(1) in pending:
            out.append(_export(match.group(1), pending.pop(match.group(1))))
        else:
            out.append(line)
    out.extend(_export(name, value) for name, value in pending.items())
    temporary = _write_private_temp(target, "\n".join(out) + "\n", "file", shown=path)
    try:
        _commit(temporary, target, "file", shown=path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _export(name: str, value: Secret) -> str:
    quoted = value.reveal().replace("'", "'\\''")
    return f"export {name}='{quoted}'"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _read_lines(path: Path, what: str, *, shown: Path | None = None) -> list[str] | None:
    """The file's lines, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read the {what}: it is not UTF-8 text", str(shown or path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {_reason(exc)}", str(shown or path)) from None


def _make_dirs(directory: Path, shown: Path, what: str) -> list[Path]:
    """Create ``directory`` and its missing parents (0700); the ones created, outermost first."""
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    created: list[Path] = []
    for one in reversed(missing):
        try:
            one.mkdir(mode=0o700)
        except FileExistsError:
            if not one.is_dir():
                raise ConfigError(f"cannot write the {what}: {one} is not a directory", str(shown)) from None
        except OSError as exc:
            for done in reversed(created):  # leave no half-made tree behind
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise ConfigError(
                f"cannot write the {what}: cannot create the directory {one}: {_reason(exc)}", str(shown)
            ) from None
        else:
            created.append(one)
    return created


def _write_private_temp(target: Path, text: str, what: str, *, shown: Path | None = None) -> Path:
    shown = shown or target
    _make_dirs(target.parent, shown, what)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the {what}: cannot create files in {target.parent}: {_reason(exc)}", str(shown)
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a quota
            raise ConfigError(f"cannot write the {what}: {_reason(exc)}", str(shown)) from None
        raise
    return temporary


def _commit(temporary: Path, target: Path, what: str, *, shown: Path | None = None) -> None:
    try:
        os.chmod(temporary, 0o600)  # umask cannot widen it, but be explicit on odd filesystems
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ConfigError(f"cannot write the {what}: {_reason(exc)}", str(shown or target)) from None
