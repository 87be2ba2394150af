"""Fault-injection fixtures: one fault server per test process, and clients reused across cases.

Tests marked ``faults_full`` (the exhaustive sets) are deselected unless ``-m`` names them:
``pytest -m faults_full tests/faults``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import KEYS, MODES, Runner
from .server import FaultServer

#: Read timeout of the ordinary clients: far above any answer's time, so only stalls meet it.
TIMEOUT = 10.0
#: Read timeout of the clients that meet stalls: short, so the suite stays fast, yet far above the
#: time the server takes to send what comes before a stall, even on a loaded machine.
SHORT_TIMEOUT = 0.5


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "faults_full" in (config.option.markexpr or ""):
        return
    full = [item for item in items if item.get_closest_marker("faults_full")]
    if full:
        config.hook.pytest_deselected(items=full)
        items[:] = [item for item in items if not item.get_closest_marker("faults_full")]


@pytest.fixture(scope="session")
def server() -> Iterator[FaultServer]:
    fault_server = FaultServer().start()
    for app, key in KEYS.items():
        fault_server.app(key, MODES[app])
    yield fault_server
    fault_server.stop()


@pytest.fixture(scope="session", params=["sync", "async"])
def runner(request: pytest.FixtureRequest, server: FaultServer) -> Iterator[Runner]:
    made = Runner(request.param, server, timeout=TIMEOUT)
    yield made
    made.close()


@pytest.fixture(scope="session", params=["sync", "async"])
def short_runner(request: pytest.FixtureRequest, server: FaultServer) -> Iterator[Runner]:
    made = Runner(request.param, server, timeout=SHORT_TIMEOUT)
    yield made
    made.close()
