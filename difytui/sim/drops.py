"""The ``drop`` fault: a run's stream connection goes, the run goes on (as Dify's runs outlive their
streams), so a client can re-attach with ``GET /workflow/:run_id/events``.

``add_fault(path, "drop", after=N, gap=K, how="reset"|"eof")``: after N data events the connection
is reset (``how="eof"``: ended cleanly without the terminal event). First the run draws K more events
at once, which nobody hears (the relay is at-most-once: a listener gets them only through the
snapshot's node records); ``gap="all"``: the run finishes before the connection goes. Then the run
waits for a listener (at most ``wait`` seconds, 30, or until it is stopped) and goes on at its pace.
Drawing the gap before the connection goes makes each case deterministic, however slow the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from .runs import Pause, Raw

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .runs import Run

#: How often a held run looks for its listener (simulator time, not the client's).
_POLL = 0.005


def draw_gap(run: Run, events: Iterator[Any], gap: int | str) -> None:
    """Advance the run by ``gap`` events (``"all"``: to its end) with no one listening."""
    drawn = 0
    if gap != "all" and int(gap) <= 0:
        return
    for item in events:
        if isinstance(item, (Pause, Raw)):
            continue
        if not isinstance(item, dict):  # a pause on a form (Suspend): the run waits there
            return
        drawn += 1
        if gap != "all" and drawn >= int(gap):
            return


async def wait_for_listener(run: Run, seconds: float) -> None:
    """Until someone listens to the run's events (or it is stopped, or ``seconds`` pass)."""
    logs = getattr(run.state, "run_logs", {})

    async def listened() -> None:
        while True:
            log = logs.get(run.wf_run.id) if run.workflow_run is not None else None
            if log is not None and getattr(log, "_listeners", None):
                return
            if run.stopped:
                return
            await asyncio.sleep(_POLL)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(listened(), seconds)
