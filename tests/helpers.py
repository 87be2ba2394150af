"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.account import AccountClient, Login
from difytui.sim import Simulator

if TYPE_CHECKING:
    from difytui.config import Workspace


def device_login(sim: Simulator) -> Login:
    """Log in to the simulator's account API through the device flow, approved at once."""
    sim.device_interval = 0.05
    with AccountClient(sim.console_url) as client:
        code = client.request_code()
        sim.approve_device(code.user_code)
        return client.poll(code, sleep=lambda s: time.sleep(0.06))


def account_workspace(sim: Simulator, login: Login) -> Workspace:
    """The simulator's account workspace (the login's default one), for a client made with its token."""
    from difytui.config import Workspace

    return Workspace(
        name="cloud",
        base_url=sim.openapi_url,
        user="ignored",
        apps={},
        kind="account",
        server=sim.console_url,
        workspace_id=login.default_workspace_id,
    )


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """``difytui ARGV`` in this process: its exit code, stdout and stderr."""
    from difytui.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def account_config(tmp_path: Path, sim: Simulator) -> str:
    """A config file whose default workspace is the simulator's account workspace, logged in."""
    from difytui.tokens import TokenStore

    login = device_login(sim)
    TokenStore().save(sim.console_url, login.token, login.info())
    path = tmp_path / "account.toml"
    path.write_text(
        f'[workspaces.cloud]\nkind = "account"\nserver = "{sim.console_url}"\n'
        f'workspace_id = "{login.info()["default_workspace_id"]}"\n'
    )
    return str(path)


def modules_loaded(code: str, tmp_path: Path) -> set[str]:
    """The modules a fresh interpreter has loaded once ``code`` ran (it prints ``*sys.modules``), with
    its own data and config directories."""
    env = {**os.environ, "DIFYTUI_DATA_DIR": str(tmp_path / "data"), "DIFYTUI_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return set(result.stdout.split())


def waiting_late(monkeypatch: Any) -> threading.Event:
    """An event set once a run given up before its first event waits on for it (``Opening.late``)."""
    from difytui.opening import Opening

    waiting = threading.Event()
    real_late = Opening.late

    def late(self: Opening, seconds: float) -> Any:
        waiting.set()
        return real_late(self, seconds)

    monkeypatch.setattr(Opening, "late", late)
    return waiting
