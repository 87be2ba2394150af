"""Where an import writes, and the writing: the config path, the env file for ``keys="env"``, the
check that both can be written (before any key is created in Dify) and :func:`save`.

:func:`default_config_path` is the package's one answer for every command that writes the config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from difytui import config_writer, paths

if TYPE_CHECKING:
    from difytui.import_apply import Choices, ImportResult

__all__ = ["ENV_FILE_NAME", "check_destination", "default_config_path", "env_file_path", "save"]

ENV_FILE_NAME = "difytui-keys.env"


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
