"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import time

from difytui.account import AccountClient, Login
from difytui.sim import Simulator


def device_login(sim: Simulator) -> Login:
    """Log in to the simulator's account API through the device flow, approved at once."""
    sim.device_interval = 0.05
    with AccountClient(sim.console_url) as client:
        code = client.request_code()
        sim.approve_device(code.user_code)
        return client.poll(code, sleep=lambda s: time.sleep(0.06))
