"""The built-in demo workspace: a Dify simulator on loopback, so everything works with no server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from difytui.config import Workspace
    from difytui.sim import Simulator


def start_demo(token_delay: float = 0.02) -> tuple[Simulator, Workspace]:
    """Start the simulator in a background thread and return it with a workspace pointing at it."""
    from difytui import paths
    from difytui.config import AppEntry, Workspace, default_user
    from difytui.sim import Simulator

    # The demo's conversations live in the data dir so `--conversation` and TUI restarts continue them.
    sim = Simulator(token_delay=token_delay, state_path=paths.data_dir() / "demo-state.json").start()
    workspace = Workspace(
        name="demo",
        base_url=sim.base_url,
        user=default_user(),
        apps={app_id: AppEntry.from_key(app_id, key) for app_id, key in sim.apps_config().items()},
        source="demo",
    )
    return sim, workspace
