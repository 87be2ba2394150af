"""A dependency-free simulator of Dify 1.14.2's Service API, for the test-suite and ``--demo``.

from difytui.sim import Simulator
with Simulator(token_delay=0.02) as sim:
    print(sim.base_url, sim.apps_config())
"""

from .apps import ALL_APPS, DEMO_APPS, api_key_for
from .simulator import Simulator

__all__ = ["ALL_APPS", "DEMO_APPS", "Simulator", "api_key_for"]
