"""An event stream over scripted events, for tests and benchmarks that stand in for the client.

What :func:`difytui.tui.runner.stream_run` reads of AsyncDify's ``AsyncEventStream`` beside its
events (a reconnect count, a reconciled answer), as a stream that never dropped has them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any


class ScriptedStream:
    """Iterates ``events`` as the client's stream would; ``aclose`` closes them."""

    reconnects = 0
    reconciled_answer: str | None = None

    def __init__(self, events: AsyncGenerator[dict[str, Any], None]) -> None:
        self._events = events

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._events

    async def aclose(self) -> None:
        await self._events.aclose()
