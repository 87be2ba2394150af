"""A clock for the run deadline (difytui.deadline.Clock) that moves only when the test moves it.

With it a deadline passes at a point of the test's choosing (once the server has recorded that it
got there), never because a loaded machine was slow: a client given ``deadline=D`` and this clock
waits on its sockets until ``advance(D)``, however long that takes in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class ManualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._waiters: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> Callable[[], None]:
        entry = (when, callback)
        with self._lock:
            due = when <= self._now
            if not due:
                self._timers.append(entry)
        if due:
            callback()

        def cancel() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._timers.remove(entry)

        return cancel

    async def within(self, awaitable: Awaitable[T], when: float) -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(awaitable)
        expired: asyncio.Future[None] = loop.create_future()
        entry = (when, loop, expired)
        with self._lock:
            if self._now >= when:
                expired.set_result(None)
            else:
                self._waiters.append(entry)
        try:
            await asyncio.wait({task, expired}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(entry)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task.done() and not task.cancelled():
            return task.result()
        raise asyncio.TimeoutError

    def advance(self, seconds: float) -> None:
        """Move time on; timers now due run on this thread, waits now due end on their loops."""
        with self._lock:
            self._now += seconds
            timers = [cb for when, cb in self._timers if when <= self._now]
            self._timers = [t for t in self._timers if t[0] > self._now]
            waiters = [(loop, fut) for when, loop, fut in self._waiters if when <= self._now]
            self._waiters = [w for w in self._waiters if w[0] > self._now]
        for callback in timers:
            callback()
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, future)

    def advance_when(self, reached: Callable[[], bool], seconds: float) -> Mover:
        """On a thread: once ``reached()`` (a blocking wait on recorded state) returns True,
        ``advance(seconds)``. The test's own thread is busy reading the run meanwhile."""
        return Mover(self, reached, seconds)


class Mover(threading.Thread):
    def __init__(self, clock: ManualClock, reached: Callable[[], bool], seconds: float) -> None:
        super().__init__(name="clock-mover", daemon=True)
        self.reached: bool | None = None
        self._clock, self._wait, self._seconds = clock, reached, seconds
        self.start()

    def run(self) -> None:
        self.reached = self._wait()
        self._clock.advance(self._seconds)  # also when it was not: the run ends, the test fails

    def moved(self) -> bool:
        """Whether the state was reached and the clock moved (joins the thread)."""
        self.join()
        return bool(self.reached)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
