"""The run deadline: its check, the clock it is read on, request timeouts cut to it, and the
blocking client's watchdog that ends a read blocked past it."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx

from difytui.errors import DifyError

if TYPE_CHECKING:
    import httpcore  # httpx's transport: the type of the connection's stream

T = TypeVar("T")


class Clock(Protocol):
    """Where a deadline reads the time and waits for it. The clients use ``SYSTEM_CLOCK``; a test
    passes a clock it moves itself, so a deadline passes when the test says, not when a busy
    machine happens to get there."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on another thread) once ``now()`` reaches ``when``; returns a cancel."""
        ...

    async def within(self, awaitable: Awaitable[T], when: float) -> T:
        """``awaitable``'s result; once ``now()`` reaches ``when``, asyncio.TimeoutError (it is cancelled)."""
        ...


class SystemClock:
    """Real time: time.monotonic(), a timer thread, asyncio.wait_for (the event loop's clock is the same)."""

    def now(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], None]) -> Callable[[], None]:
        timer = threading.Timer(max(0.0, when - time.monotonic()), callback)
        timer.daemon = True
        timer.start()
        return timer.cancel

    async def within(self, awaitable: Awaitable[T], when: float) -> T:
        return await asyncio.wait_for(awaitable, max(when - time.monotonic(), 0.0))


SYSTEM_CLOCK: Clock = SystemClock()


def checked_deadline(value: object) -> float | None:
    """``value`` as a run deadline (seconds > 0, or None: no deadline); else DifyError."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise DifyError(f"deadline must be a number of seconds greater than 0, not {value!r}")
    return value


def cut_to(timeout: httpx.Timeout, deadline: float, clock: Clock) -> httpx.Timeout:
    """``timeout`` with each phase cut to what is left before ``deadline`` (on ``clock``)."""
    left = max(deadline - clock.now(), 0.001)

    def cut(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cut(timeout.connect), read=cut(timeout.read), write=cut(timeout.write), pool=cut(timeout.pool)
    )


def _never() -> None:
    """The cancel of a timer not set yet."""


class Watchdog:
    """Ends a read blocked past the deadline: a timer thread shuts the socket down. A read timeout
    cannot: httpx applies it to each read, so endless pings or a byte a second never trip it.

    Before the response exists (a head that drips), the socket is the one httpcore reports through
    the request's ``trace`` extension when it connects: runs always go out on a new connection.

    ``patience``, asked once the deadline passes: seconds more to leave the read going (a stream
    whose task is not named yet reads on for the event that names it, so that it can be stopped).
    ``due()`` is true from the deadline on; ``fired`` once the read was cut.
    """

    def __init__(
        self,
        deadline: float,
        clock: Clock,
        response: httpx.Response | None = None,
        patience: Callable[[], float] | None = None,
    ) -> None:
        self.deadline = deadline
        self.fired = False
        self._clock = clock
        self._response = response
        self._patience = patience
        self._connected: httpcore.NetworkStream | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._cancel: Callable[[], None] = _never
        cancel = clock.call_at(deadline, self._fire)  # may fire at once, and re-arm
        with self._lock:
            if self._cancel is _never:
                self._cancel = cancel

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._connected = info.get("return_value")

    def due(self) -> bool:
        return self.fired or self._clock.now() >= self.deadline

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            cancel = self._cancel
        cancel()

    def _fire(self) -> None:
        patience, self._patience = self._patience, None
        extra = patience() if patience is not None else 0.0
        if extra > 0:
            with self._lock:
                if not self._cancelled:  # a cancel that came meanwhile must cancel this one too
                    self._cancel = self._clock.call_at(self.deadline + extra, self._fire)
            return
        self.fired = True
        if self._response is not None:
            stream: httpcore.NetworkStream | None = self._response.extensions.get("network_stream")
        else:
            stream = self._connected
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                # socket.socket's own shutdown, also under TLS: it wakes the blocked read at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
