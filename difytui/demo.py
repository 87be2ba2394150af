"""The built-in demo workspace: a Dify simulator on loopback, so everything works with no server."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from difytui.config_models import Workspace
    from difytui.sim import Simulator


def cases_dir() -> Path:
    """The demo's example test cases (shipped in the package), which all pass against the demo."""
    return Path(__file__).resolve().parent / "demo_cases"


def _workspace(base_url: str, keys: dict[str, str]) -> Workspace:
    # The data only: difytui.config's loading (tomllib, its line finder) is no part of the demo.
    from difytui.config_models import AppEntry, Workspace, default_user

    return Workspace(
        name="demo",
        base_url=base_url,
        user=default_user(),
        apps={app_id: AppEntry.from_key(app_id, key) for app_id, key in keys.items()},
        source="demo",
    )


def _simulator(token_delay: float, sock: socket.socket | None = None) -> Simulator:
    from difytui import paths
    from difytui.sim import Simulator

    # The demo's conversations live in the data dir so `--conversation` and TUI restarts continue them.
    state_path = paths.data_dir() / "demo-state.json"
    return Simulator(token_delay=token_delay, state_path=state_path, sock=sock).start()


def start_demo(token_delay: float = 0.02) -> tuple[Simulator, Workspace]:
    """Start the simulator in a background thread and return it with a workspace pointing at it."""
    sim = _simulator(token_delay)
    return sim, _workspace(sim.base_url, sim.apps_config())


class LazyDemo:
    """The demo's simulator, started by the first connection to it.

    The console's first frame needs only the workspace (its address and app keys), not a running
    server: the socket is bound and listening at once, so a request queues in its backlog while a
    thread, woken by that first connection, imports and starts the simulator (~40 ms of start-up
    kept off the first frame).
    """

    def __init__(self, token_delay: float = 0.02) -> None:
        from difytui.sim import DEMO_APPS, api_key_for  # the catalogue only, not the server

        self._token_delay = token_delay
        self._sock = socket.create_server(("127.0.0.1", 0))
        host, port = self._sock.getsockname()[:2]
        self.workspace = _workspace(f"http://{host}:{port}/v1", {a: api_key_for(a) for a in DEMO_APPS})
        self.sim: Simulator | None = None
        self.error: BaseException | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._stopped = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve_when_asked, name="difytui-demo", daemon=True)
        self._thread.start()

    def _serve_when_asked(self) -> None:
        select.select([self._sock.fileno(), self._wake_r], [], [])
        with self._lock:
            if self._stopped:
                return
            try:
                self.sim = _simulator(self._token_delay, self._sock)
            except BaseException as error:  # the client's request then fails as a connection error
                self.error = error
                self._sock.close()

    def stop(self) -> None:
        """Stop the simulator (saving the demo's conversations), or never start it."""
        with self._lock:
            self._stopped = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(10)
        if self.sim is not None:
            self.sim.stop()
        else:
            self._sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
