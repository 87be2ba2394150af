"""The ``drop`` fault: a run's stream connection goes, the run goes on (as Dify's runs outlive their
streams), so a client can re-attach with ``GET /workflow/:run_id/events``.

``add_fault(path, "drop", after=N, gap=K, how="reset"|"eof", wait=30)``: after N data events the
connection is reset (``how="eof"``: ended cleanly, without the terminal event). The run first
makes K more events at once, which nobody hears (Dify's relay is at-most-once: a listener learns of
them only through the snapshot's node records); ``gap="all"``: the run finishes before the
connection goes. Then the run waits for a listener (at most ``wait`` seconds, or until stopped) and
goes on at its pace. Making the gap before the connection goes, and waiting for the listener,
makes each case the same however slow the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from .run_log import log_of
from .runs import Pause, Raw

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .runs import Run
    from .server import Server

#: How often a held run looks for its listener (the simulator's own wait, not a test's).
_POLL = 0.005


async def drop(
    server: Server, writer: Any, fault: dict, run: Run, pending: Any, events: Iterator[Any], lock: Any
) -> bool:
    """Apply a ``drop`` fault at ``pending``, the event the run made but did not send yet."""
    gap = fault.get("gap", 0)
    if gap == "all" or int(gap) > 1:
        _draw(events, None if gap == "all" else int(gap) - 1)  # ``pending`` is the gap's first
    async with lock:
        if fault.get("how") == "eof":
            await server._send(writer, b"0\r\n\r\n")
        else:
            writer.transport.abort()  # RST, no terminating chunk
    if run.finished or run.workflow_run is None:
        return False
    log = log_of(run)
    await _listener(run, fault.get("wait", 30.0))
    if gap == 0 and isinstance(pending, dict) and log.listened:
        log.publish(pending)  # no gap: the listener gets what the cut connection did not
    await server._detached(run, events)
    return False


def _draw(events: Iterator[Any], count: int | None) -> None:
    """Advance the run by ``count`` events (None: to its end) with no one listening."""
    drawn = 0
    for item in events:
        if isinstance(item, (Pause, Raw)):
            continue
        if not isinstance(item, dict):  # a pause on a form (Suspend): the run waits there
            return
        drawn += 1
        if count is not None and drawn >= count:
            return


async def _listener(run: Run, seconds: float) -> None:
    """Until someone listens to the run's events (or it is stopped, or ``seconds`` pass)."""
    log = log_of(run)

    async def listened() -> None:
        while not (log.listened or run.stopped):
            await asyncio.sleep(_POLL)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(listened(), seconds)
