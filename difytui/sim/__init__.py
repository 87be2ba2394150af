"""A dependency-free simulator of Dify 1.14.2's Service API, for the test-suite and ``--demo``.

from difytui.sim import Simulator
with Simulator(token_delay=0.02) as sim:
    print(sim.base_url, sim.apps_config())

``Simulator`` is imported on first use (PEP 562): the demo console reads the app catalogue and keys
(``.apps``) before its first frame and starts the server after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .apps import ALL_APPS, DEMO_APPS, api_key_for

if TYPE_CHECKING:
    from .simulator import Simulator

__all__ = ["ALL_APPS", "DEMO_APPS", "Simulator", "api_key_for"]


def __getattr__(name: str) -> Any:
    if name == "Simulator":
        from .simulator import Simulator

        return Simulator
    raise AttributeError(f"module 'difytui.sim' has no attribute {name!r}")
