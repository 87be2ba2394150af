"""A run's start (its request and first event), on a thread of its own so that Ctrl+C cannot cut it.

Only a run's first event names its task, which a stop call needs. Ctrl+C in the caller's thread
raises KeyboardInterrupt inside whatever read it is blocked in, and httpx then closes the connection:
a run given up before its first event could never be stopped. Read on another thread, the request
and that event carry on; the caller, interrupted while waiting for them, can still wait a little
(``late``) to learn the task. This is the blocking twin of ``AsyncEventStream.first``; the blocking
client's folded runs and ``difytui invoke``'s streams start this way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: How often a wait looks for Ctrl+C. A signal that came just before the wait began, or that the OS
#: handed to another thread, does not interrupt it: Python acts on it once the wait returns.
_CHECK_EVERY = 0.1


class Opening(Generic[T]):
    """Runs ``start`` on a daemon thread from ``begin()``. ``result()`` waits for it (Ctrl+C interrupts
    the wait, not ``start``); ``late(seconds)`` waits a little more after that. Given up, whatever
    ``start`` returns later goes to ``discard`` (which closes it), as nobody will read it.

    ``begin()`` is separate from the constructor so that it can sit inside the caller's ``try``: a
    Ctrl+C that lands while the thread starts must still find the opening to wait on."""

    def __init__(self, start: Callable[[], T], discard: Callable[[T], None]) -> None:
        self._start = start
        self._discard = discard
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def begin(self) -> None:
        threading.Thread(target=self._run, name="difytui-run-start", daemon=True).start()

    def _run(self) -> None:
        value: T | None = None
        try:
            value = self._start()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._error = exc
        with self._lock:
            self._value = value
            self._done.set()
            abandoned = self._abandoned
        if abandoned and value is not None:
            self._discard(value)

    def result(self) -> T:
        """What ``start`` returned, or raise what it raised."""
        self._wait(None)
        if self._error is not None:
            raise self._error
        assert self._value is not None  # set with _done, when no error
        return self._value

    def late(self, seconds: float) -> T | None:
        """After the caller was interrupted: ``start``'s value if it comes within ``seconds`` (a
        second Ctrl+C ends the wait at once), else None and it is discarded whenever it comes."""
        try:
            self._wait(seconds)
        finally:
            with self._lock:
                finished = self._done.is_set()
                if not finished:
                    self._abandoned = True
        if not finished or self._error is not None:
            return None
        return self._value

    def _wait(self, seconds: float | None) -> None:
        """Until ``start`` is done, or ``seconds`` have passed (None: no limit), in short waits."""
        end = None if seconds is None else time.monotonic() + seconds
        while not self._done.is_set():
            left = _CHECK_EVERY if end is None else min(_CHECK_EVERY, end - time.monotonic())
            if left <= 0:
                return
            self._done.wait(left)
