"""Hand-made cases, clients on the simulator and a small grader for the runner and report tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from difytui.bench.clients import Clients
from difytui.bench.model import Assertion, AssertionResult, Case, RunResult, Where
from difytui.client import AsyncDify
from difytui.deadline import SYSTEM_CLOCK, Clock
from difytui.sim import Simulator

HERE = Where(Path("/cases/support.toml"), 1)


def case(name: str, app: str = "support-bot", **fields: Any) -> Case:
    fields.setdefault("inputs", {"product": "difytui"})
    if app in ("support-bot", "travel-agent", "trip-planner"):
        fields.setdefault("turns", ("Hello",))
    return Case(name=name, file=HERE.file, rel="support.toml", where=HERE, app=app, **fields)


def contains(text: str) -> Assertion:
    return Assertion(type="contains", where=Where(HERE.file, 7), value=text)


def clients(sim: Simulator, dead: str | None = None, clock: Clock = SYSTEM_CLOCK) -> Clients:
    """Every workspace is the simulator's demo workspace, but ``dead``: a port nothing listens on.
    ``clock``: where the clients (and so the cases' timeouts) read the time."""

    def make(workspace: str | None) -> AsyncDify:
        base_url = "http://127.0.0.1:9/v1" if workspace is not None and workspace == dead else sim.base_url
        return AsyncDify(base_url=base_url, apps=sim.apps_config(), user="tester", timeout=5, clock=clock)

    return Clients(make)


async def grade(case: Case, run: RunResult, dify: AsyncDify) -> list[AssertionResult]:
    """``contains`` on the last answer, and the run's status; enough to tell pass from fail."""
    last = run.turns[-1]
    results = [
        AssertionResult(Assertion("status", HERE), last.status == "succeeded", f"status {last.status}")
    ]
    for assertion in case.assertions:
        found = str(assertion.value) in last.answer
        results.append(
            AssertionResult(assertion, found, "found" if found else f"{assertion.value!r} not found")
        )
    return results


def held_run(sim: Simulator) -> Callable[[], bool]:
    """A wait until the simulator holds a run not stopped yet (the bound is for a broken build only)."""

    def wait() -> bool:
        for _ in range(6000):
            if set(sim.held_tasks) - set(sim.stopped_tasks):
                return True
            time.sleep(0.01)
        return False

    return wait
