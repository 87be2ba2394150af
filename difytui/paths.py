"""Where difytui keeps its files (platformdirs; overridable for tests and portable setups)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "difytui"


def config_dir() -> Path:
    override = os.environ.get("DIFYTUI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    override = os.environ.get("DIFYTUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def state_db_path() -> Path:
    return data_dir() / "state.sqlite3"
