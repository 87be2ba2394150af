"""The event streams of streamed runs: ``EventStream`` (blocking) and ``AsyncEventStream`` (asyncio).

Each reads Dify's SSE body, stops after the mode's last event, and under a deadline ends the read
where it passes and stops the run on the server (a run not named by then is read TASK_ID_WAIT
more for the event that names it). A workflow or chatflow stream that drops is
re-attached to its run (:mod:`difytui.reconnect`): ``reconnects`` counts it, and the events go on
as if the connection had held, none twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, cast

import httpx

from difytui._http import (
    SSEParser,
    connection_error,
    decode_event,
    is_terminal,
    stream_ended_early,
    task_id_of,
    terminal_events,
)
from difytui.deadline import SYSTEM_CLOCK, Clock, Watchdog
from difytui.errors import DifyConnectionError, DifyDeadlineError, DifyError
from difytui.reconnect import DEFAULT_POLICY, NEVER, Reattachment, ReconnectPolicy

#: Seconds a stream given up before its first event goes on reading it: that event names the task
#: to stop (a workflow's comes at once; a chat app's with the model's first token). A deadline
#: that passes before it gives the stream this long too (on the deadline's clock).
TASK_ID_WAIT = 5.0

if TYPE_CHECKING:
    from difytui._http import Flow
    from difytui.async_client import AsyncDify
    from difytui.flows import RunOutcome


class _Decoding:
    """What both streams do with the body's chunks: decode the events, note the run's task id as
    soon as one names it, drop what a re-attached stream replays, and see the mode's last event
    (``_ended``)."""

    task_id: str | None
    _terminals: frozenset[str]
    _ended = False
    _reattachment: Reattachment

    @property
    def reconnects(self) -> int:
        """How many times the stream was re-attached to its run after its connection dropped."""
        return self._reattachment.count

    @property
    def reconciled_answer(self) -> str | None:
        """A re-attached chatflow's whole answer (``workflow_finished.data.outputs.answer``) when it
        differs from what the ``message`` events gave (text streamed while detached is lost): set
        before that ``workflow_finished`` is yielded; show it in place of the streamed text."""
        return self._reattachment.reconciled_answer

    def _unnamed(self, error: BaseException) -> BaseException:
        """``error`` (a drop or a read timeout, not re-attached) saying so when the run cannot be
        stopped: Dify had not named its task, and the run goes on without a reader."""
        if self.task_id is not None or not isinstance(error, DifyConnectionError):
            return error
        said = DifyConnectionError(
            f"{error}; Dify had not named the run's task, so it could not be stopped: it may still be "
            "running on the server",
            url=error.url,
        )
        said.timed_out = error.timed_out
        return said

    def _patience(self) -> float:
        """Once the deadline passes: how much longer to read, for the event that names the task."""
        return TASK_ID_WAIT if self.task_id is None else 0.0

    def _decoded(self, parser: SSEParser, chunk: bytes | None, url: str) -> Iterator[dict[str, Any]]:
        for data in parser.feed(chunk):
            event = decode_event(data, url)
            if not self._reattachment.admit(event):
                continue  # a replay of an event already delivered
            if self.task_id is None:
                self.task_id = task_id_of(event)
            yield event
            if is_terminal(event, self._terminals):
                self._ended = True
                return


class EventStream(_Decoding):
    """The events of one streamed run, as Dify sent them (pings left out); closes after the last one.

    Iterate it, or use it as a context manager to close it early. ``close()`` is safe to call twice.
    ``task_id`` is the run's task id (for ``app.stop``) as soon as an event has named it.
    """

    def __init__(
        self,
        response: httpx.Response,
        mode: str,
        *,
        deadline: float | None = None,
        seconds: float | None = None,
        stop: Callable[[str], bool] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        terminals: frozenset[str] | None = None,
        reattach: Callable[[str], httpx.Response] | None = None,
        policy: ReconnectPolicy = DEFAULT_POLICY,
    ) -> None:
        self.response = response
        #: the app's mode (chat, advanced-chat, workflow…): it decides which event is the last,
        #: unless ``terminals`` says (a re-attached run's stream: difytui.human_input_api)
        self.mode = mode
        self.task_id: str | None = None
        self._terminals = terminals if terminals is not None else terminal_events(mode)
        self._deadline = deadline
        self._seconds = seconds
        self._stop = stop
        self._clock = clock
        #: opens the events endpoint of a run (its workflow_run_id); None: never re-attach
        self._reattach = reattach
        self._reattachment = Reattachment(mode, policy if reattach is not None else NEVER)
        self._events = self._iterate()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._events)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._events.close()
        self.response.close()

    def _iterate(self) -> Generator[dict[str, Any], None, None]:
        while True:
            try:
                yield from self._read(self.response)
                return
            except DifyConnectionError as drop:
                self.response = self._reattached(drop)

    def _reattached(self, error: DifyError) -> httpx.Response:
        """The run's events stream, re-opened after ``error`` (waiting as the policy says), or raise."""
        reattachment = self._reattachment
        while True:
            delay = reattachment.retry_delay(error)
            if delay is None:
                raise self._unnamed(reattachment.gave_up(error)) from None
            if self._deadline is not None and self._clock.now() + delay >= self._deadline:
                raise self._expired(error.url if isinstance(error, DifyConnectionError) else "")
            time.sleep(delay)
            assert self._reattach is not None and reattachment.run_id is not None  # retry_delay checked
            try:
                response = self._reattach(reattachment.run_id)
            except DifyDeadlineError as late:  # the run goes on, and Dify named its task: stop it
                raise self._expired(late.url) from None
            except DifyError as failed:
                error = failed
                continue
            reattachment.attached()
            return response

    def _read(self, response: httpx.Response) -> Generator[dict[str, Any], None, None]:
        """One response's events until the last one; a drop raises DifyConnectionError."""
        url = str(response.request.url)
        parser = SSEParser()
        watchdog = None
        if self._deadline is not None:
            watchdog = Watchdog(self._deadline, self._clock, response, self._patience)
        try:
            for chunk in itertools.chain(response.iter_bytes(), (None,)):  # None: the end
                yield from self._decoded(parser, chunk, url)
                if self._ended:
                    return
                # Past the deadline, a run not named yet is read on (the watchdog cuts it later)
                if watchdog is not None and watchdog.due() and self.task_id is not None:
                    break
        except Exception as exc:
            if watchdog is None or not watchdog.due():
                if isinstance(exc, httpx.HTTPError):
                    raise connection_error(exc, url, streaming=True) from None
                raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            # Closing ourselves matters: after an `error` event Dify keeps the connection silent for 300 s.
            response.close()
        if watchdog is not None and watchdog.due():
            raise self._expired(url, TASK_ID_WAIT if watchdog.fired and self.task_id is None else 0.0)
        raise stream_ended_early(url)

    def _expired(self, url: str, waited: float = 0.0) -> DifyDeadlineError:
        task_id = self.task_id
        stopped = bool(task_id and self._stop is not None and self._stop(task_id))
        return DifyDeadlineError(self._seconds or 0.0, url, task_id, stopped, waited)


class AsyncEventStream(_Decoding):
    """Async twin of ``EventStream``: ``async for event in stream``; ``await stream`` opens it early."""

    def __init__(
        self,
        client: AsyncDify,
        make_flow: Callable[[], Flow[RunOutcome]],
        app_id: str,
        terminals: frozenset[str] | None = None,
    ) -> None:
        self._client = client
        self._fixed_terminals = terminals
        self._make_flow = make_flow
        self._app_id = app_id
        self.response: httpx.Response | None = None
        #: a blocking run's answer, when Dify was asked for one (agent apps): see AsyncDify._run_folded
        self.answer: dict[str, Any] | None = None
        self.mode = ""
        self.task_id: str | None = None
        #: the first event, when it came after the stream was given up: see first()
        self.late: dict[str, Any] | None = None
        self._terminals: frozenset[str] = frozenset()
        self._deadline: float | None = None
        self._expired = False
        self._waited = 0.0  # read past the deadline for the task's name, in vain
        self._events: AsyncGenerator[dict[str, Any], None] | None = None
        self._reattachment = Reattachment("")

    async def open(self) -> AsyncEventStream:
        if self.response is None and self.answer is None:
            self._deadline = self._client._deadline_at()
            outcome, self.mode = await self._client._drive(self._make_flow(), self._deadline)
            if isinstance(outcome, httpx.Response):
                self.response = outcome
            else:
                self.answer = outcome
            fixed = self._fixed_terminals
            self._terminals = fixed if fixed is not None else terminal_events(self.mode)
            # A run's own stream is re-attached after a drop; an app.events listener is not (its
            # caller chose the snapshot and continue_on_pause: it opens a new one if it wants).
            policy = self._client.reconnect if fixed is None else NEVER
            self._reattachment = Reattachment(self.mode, policy)
        return self

    def __await__(self) -> Generator[Any, None, AsyncEventStream]:
        return self.open().__await__()

    async def first(self) -> dict[str, Any] | None:
        """Open the stream and read its first event (None: Dify answered a blocking request, see
        ``answer``); iterate the stream for the rest.

        Given up meanwhile (cancelled: a timeout, Ctrl+C), the run may be going on on the server, and
        only its first event names the task to stop. So the read goes on, for ``TASK_ID_WAIT``
        seconds at most (a second cancel ends it at once), and ``task_id`` is set (and ``late`` is
        the event) if it came; then the cancel goes on. Cancelling the read itself would close the
        connection with it."""
        reading = asyncio.ensure_future(self._first())
        try:
            return await asyncio.shield(reading)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # the task id is all that matters now; it may not come
                self.late = await asyncio.wait_for(reading, TASK_ID_WAIT)
            raise

    async def _first(self) -> dict[str, Any] | None:
        await self.open()
        if self.answer is not None:
            return None
        return await anext(self.__aiter__(), None)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    async def __aenter__(self) -> AsyncEventStream:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()
        if self.response is not None:
            await self.response.aclose()

    async def _iterate(self) -> AsyncGenerator[dict[str, Any], None]:
        await self.open()
        while True:
            response = self.response
            assert response is not None  # open() gave a stream: a blocking answer is never iterated
            events = self._read(response)
            try:
                async for event in events:
                    yield event
                return
            except DifyConnectionError as drop:
                self.response = await self._reattached(drop)
            finally:
                await events.aclose()

    async def _reattached(self, error: DifyError) -> httpx.Response:
        """The run's events stream, re-opened after ``error`` (waiting as the policy says), or raise."""
        reattachment = self._reattachment
        client = self._client
        while True:
            delay = reattachment.retry_delay(error)
            if delay is None:
                raise self._unnamed(reattachment.gave_up(error)) from None
            if self._deadline is not None and client.clock.now() + delay >= self._deadline:
                raise await self._past_deadline(error.url if isinstance(error, DifyConnectionError) else "")
            await asyncio.sleep(delay)
            assert reattachment.run_id is not None  # retry_delay checked
            try:
                flow = client._reattach_flow(self._app_id, reattachment.run_id)
                outcome = await client._drive(flow, self._deadline)
            except DifyDeadlineError as late:  # the run goes on, and Dify named its task: stop it
                raise await self._past_deadline(late.url) from None
            except DifyError as failed:
                error = failed
                continue
            reattachment.attached()
            return outcome

    async def _read(self, response: httpx.Response) -> AsyncGenerator[dict[str, Any], None]:
        """One response's events until the last one; a drop raises DifyConnectionError."""
        url = str(response.request.url)
        parser = SSEParser()
        if self._deadline is None:
            body = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
        else:
            body = self._until(response, self._deadline)
        chunks = _then_end(body)
        try:
            async for chunk in chunks:
                for event in self._decoded(parser, chunk, url):
                    yield event
                if self._ended:
                    return
        except httpx.HTTPError as exc:
            raise connection_error(exc, url, streaming=True) from None
        finally:
            await chunks.aclose()
            await response.aclose()
        if self._expired:
            raise await self._past_deadline(url)
        raise stream_ended_early(url)

    async def _past_deadline(self, url: str) -> DifyDeadlineError:
        """The deadline passed: the run is stopped on the server when Dify named its task."""
        task_id = self.task_id
        stopped = bool(task_id and await self._client._stop_quietly(self._app_id, task_id))
        waited = self._waited if task_id is None else 0.0
        return DifyDeadlineError(self._client.deadline or 0.0, url, task_id, stopped, waited)

    async def _until(self, response: httpx.Response, deadline: float) -> AsyncGenerator[bytes, None]:
        """The body's chunks until the deadline (then ``_expired``), however slowly they come. A run
        not named by then is read ``_patience()`` more, for the event that names it."""
        chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
        clock = self._client.clock
        end: float | None = None  # past the deadline: when the wait for the task's name ends
        reading: asyncio.Future[bytes] | None = None
        try:
            while True:
                if end is None and clock.now() >= deadline:
                    end = deadline + self._patience()
                if end is not None and (self.task_id is not None or clock.now() >= end):
                    self._expired = True
                    self._waited = end - deadline
                    return
                # One read at a time, kept across the deadline: cancelling it would end the body.
                reading = reading or asyncio.ensure_future(_next(chunks))
                try:
                    chunk = await clock.within(asyncio.shield(reading), deadline if end is None else end)
                except asyncio.TimeoutError:
                    continue
                except StopAsyncIteration:
                    return
                reading = None
                yield chunk
        finally:
            if reading is not None:
                reading.cancel()
                with contextlib.suppress(BaseException):
                    await reading
            await chunks.aclose()


async def _then_end(chunks: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes | None, None]:
    """The chunks, then None for the end of the body (the SSE parser may hold a last line end)."""
    try:
        async for chunk in chunks:
            yield chunk
        yield None
    finally:
        await chunks.aclose()


async def _next(chunks: AsyncIterator[bytes]) -> bytes:
    return await chunks.__anext__()
