"""The server's Human Input side: drive a resumed run, relay a run's events to ``/events`` clients.

A mixin of :class:`.server.Server` (it uses the server's writers and pacing).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from . import wire
from .api_events import IDLE_TIMEOUT, Listen
from .run_log import CLOSED, RunLog, Suspend
from .runs import Pause

if TYPE_CHECKING:
    from .api import Api
    from .simulator import Simulator


class _Disconnected(Exception):
    pass


class RelayMixin:
    api: Api
    sim: Simulator
    resumed: set[asyncio.Task]
    # _send, _send_chunk and _pause are the server's

    def _resume(self, log: RunLog) -> None:
        task = asyncio.get_running_loop().create_task(self._drive(log))
        self.resumed.add(task)
        task.add_done_callback(self.resumed.discard)

    async def _drive(self, log: RunLog) -> None:
        """Go on with a resumed run's script at the run's pace, publishing its events (run_log)."""
        run = log.run
        if run.stop_event is None:  # a run started blocking was never pumped
            run.stop_event = asyncio.Event()
        await asyncio.sleep(0)  # after the submit's answer, as Celery picks the resume up later
        assert log.script is not None  # a paused run keeps its suspended script
        self.api.detached[run.task_id] = run  # a stop reaches the resumed run
        try:
            for item in log.script:
                if isinstance(item, Suspend):
                    break
                factor = item.factor if isinstance(item, Pause) else 1.0
                await self._pause(run, factor * self.sim.token_delay)
        finally:
            self.api.detached.pop(run.task_id, None)

    async def _listen(self, writer, listen: Listen) -> bool:
        """Relay a run's events to one ``/events`` client (see :mod:`.api_events`)."""
        if listen.finished is not None:  # one line of stdlib JSON, no ping (A13)
            await self._send_chunk(writer, b"data: " + json.dumps(listen.finished).encode() + b"\n\n")
            await self._send(writer, b"0\r\n\r\n")
            return True
        assert listen.log is not None and listen.queue is not None
        try:
            await self._send_chunk(writer, wire.PING_FRAME)
            for event in listen.replay:
                await self._send_chunk(writer, wire.sse_frame(event))
            if not (listen.replayed_pause and not listen.continue_on_pause):
                await self._relay(writer, listen)
            await self._send(writer, b"0\r\n\r\n")
            return True
        except (_Disconnected, ConnectionError):
            return False
        finally:
            listen.log.unsubscribe(listen.queue)

    async def _relay(self, writer, listen: Listen) -> None:
        assert listen.queue is not None
        idle = 0.0
        timeout = getattr(self.sim, "events_idle_timeout", IDLE_TIMEOUT)
        while idle < timeout:
            wait = min(self.sim.ping_interval, timeout - idle)
            try:
                event = await asyncio.wait_for(listen.queue.get(), wait)
            except asyncio.TimeoutError:
                idle += wait
                if idle < timeout:
                    await self._send_chunk(writer, wire.PING_FRAME)
                continue
            if event is CLOSED:  # the script is done; the relay does not know and pings on (X20)
                continue
            idle = 0.0
            await self._send_chunk(writer, wire.sse_frame(event))
            if listen.ends_after(event):
                return
