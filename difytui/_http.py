"""Sans-io pieces shared by ``Dify`` and ``AsyncDify``: what a flow asks its driver for (a
``Call``, a ``Sleep``, ``Parallel`` sub-flows), when a read is retried, and the pools' limits.

How to read what came back lives beside it: :mod:`difytui._responses` (a response or httpx error →
a dict or a DifyError) and :mod:`difytui._sse` (the event stream); their names are re-exported here.
Nothing here performs I/O, so the sync and async clients run exactly the same logic.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

# Re-exported: the names the clients, streams and sessions import from here.
from difytui._responses import (
    answer,
    api_error,
    connection_error,
    decode_json,
    excerpt,
    is_the_stream,
)
from difytui._sse import (
    SSEParser,
    decode_event,
    is_terminal,
    stream_ended_early,
    task_id_of,
    terminal_events,
)
from difytui.errors import DifyAPIError, DifyConnectionError

__all__ = [
    "MAX_RETRY_AFTER",
    "READ_ATTEMPTS",
    "RETRY_STATUSES",
    "Call",
    "Flow",
    "Parallel",
    "SSEParser",
    "Sleep",
    "Step",
    "answer",
    "api_error",
    "connection_error",
    "decode_event",
    "decode_json",
    "excerpt",
    "fresh_limits",
    "is_terminal",
    "is_the_stream",
    "pool_limits",
    "retry_delay",
    "stream_ended_early",
    "task_id_of",
    "terminal_events",
]

#: Reads are retried this many times in all (first try included).
READ_ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A server asking us to wait longer than this is answered with the error instead.
MAX_RETRY_AFTER = 30.0


@dataclass
class Call:
    """One HTTP request a flow wants made (for the app whose key authorises it)."""

    method: str
    path: str
    app_id: str | None  # None: a request about no single app (the account API's app list)
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    upload: Path | None = None
    #: Told the bytes of ``upload`` sent so far (see upload_progress).
    progress: Callable[[int, int], None] | None = None
    form: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    #: Safe to repeat (reads): retried on connection errors, 429 and 502/503/504. Calls that are not
    #: go out on a fresh connection: one that is never retried must not meet a stale keep-alive socket.
    idempotent: bool = False
    #: Seconds for each phase of this request, instead of the client's timeouts (stop calls: short).
    timeout: float | None = None
    #: A blocking run (streamed under the hood): a JSON answer instead of the stream is the result,
    #: as a server that answered in blocking mode anyway means it.
    blocking: bool = False


@dataclass
class Sleep:
    """A flow asking its driver to wait (between retries)."""

    seconds: float


@dataclass
class Parallel:
    """A flow asking its driver to run sub-flows, concurrently where it can; the result is one
    outcome per sub-flow, in order: its value, or the DifyError that ended it."""

    flows: list[Flow[Any]]


T = TypeVar("T")
#: What a flow yields: a request to make, a pause, or sub-flows to run.
Step = Call | Sleep | Parallel
#: A sans-io request flow returning a ``T``: it yields ``Step``s and is sent each one's result (a
#: ``Call``'s JSON answer or open stream; a ``Parallel``'s outcomes; None after a ``Sleep``).
Flow = Generator[Step, Any, T]


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying a read after ``error`` (attempt counts from 1), or None."""
    if attempt >= READ_ATTEMPTS:
        return None
    backoff = 0.25 * 2.0 ** (attempt - 1)
    if isinstance(error, DifyConnectionError):
        # A timeout already cost the whole timeout: repeating it only makes a dead server slower to report.
        return None if error.timed_out else backoff
    if isinstance(error, DifyAPIError) and error.status in RETRY_STATUSES:
        after = error.retry_after
        if after is None:
            return backoff
        return after if after <= MAX_RETRY_AFTER else None
    return None


def fresh_limits() -> httpx.Limits:
    # Runs, uploads and stops (never retried) each get a new connection. A keep-alive connection the
    # server closed right after its last answer fails the next request on it with "connection reset"
    # (82 in 500 sync runs against a loopback server that closes after each response; 0 in 500 on
    # fresh connections). Retrying instead is unsafe: that failure looks exactly like a server that
    # read the request, started the run and died. Reads keep their pool: they are retried.
    return httpx.Limits(max_keepalive_connections=0)


def pool_limits(fresh: bool) -> httpx.Limits:
    """A pool's limits: ``fresh_limits()``, or httpx's own default (100 connections, 20 kept alive)."""
    return fresh_limits() if fresh else httpx.Limits(max_connections=100, max_keepalive_connections=20)
