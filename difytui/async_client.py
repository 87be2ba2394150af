"""``AsyncDify``: the asyncio client, driving the shared flows with an ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import httpx

from difytui._http import Call, Flow, Parallel, Sleep, answer, is_the_stream, pool_limits
from difytui.app_api import AppAPI
from difytui.errors import DifyDeadlineError, DifyError
from difytui.flows import ClientCore, RunOutcome, given_up
from difytui.models import AppInfo
from difytui.streams import AsyncEventStream
from difytui.upload_progress import ProgressReader

#: How many reads AsyncDify runs at once for one call (the app list asks every app's /info).
PARALLEL_READS = 8


T = TypeVar("T")


class AsyncDify(ClientCore[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """Asyncio client: ``await`` blocking calls; ``async for`` over streaming ones.

    Its constructor is ``ClientCore``'s, with an ``httpx.AsyncBaseTransport`` as ``transport``."""

    @cached_property
    def app(self) -> AppAPI[AsyncDify]:
        """The plugin SDK's ``session.app`` namespace: ``app.chat``, ``app.workflow``…"""
        return AppAPI(self)

    @cached_property
    def _parallel(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(PARALLEL_READS)

    def _pool(self, *, fresh: bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout, transport=self._transport, verify=self._ssl, limits=pool_limits(fresh)
        )

    async def close(self) -> None:
        await self._http.aclose()
        if self._fresh is not None:
            await self._fresh.aclose()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> AsyncDify:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def apps(self) -> list[AppInfo]:
        return await self._run_blocking(self._apps_flow)

    async def _run_blocking(self, make_flow: Callable[[], Flow[T]]) -> T:
        return await self._drive(make_flow())

    def _run_stream(
        self,
        make_flow: Callable[[], Flow[RunOutcome]],
        app_id: str,
        terminals: frozenset[str] | None = None,
    ) -> AsyncEventStream:
        return AsyncEventStream(self, make_flow, app_id, terminals=terminals)

    async def _run_folded(self, make_flow: Callable[[], Flow[RunOutcome]], app_id: str) -> dict[str, Any]:
        """A blocking run: streamed, folded into the blocking body; stopped on the server if given up
        (cancelled, timed out, past its deadline…)."""
        stream = AsyncEventStream(self, make_flow, app_id)
        try:
            first = await stream.first()  # given up before it, still read: it names the task to stop
            if stream.answer is not None:
                return stream.answer  # a blocking request, answered as such
            assert stream.response is not None  # open() sets the answer or the response
            folder = self._folder(stream.mode, stream.response)
            if first is not None:
                folder.add(first)
            async for event in stream:
                folder.add(event)
            folder.reattached(stream.reconnects, stream.reconciled_answer)
        except BaseException as exc:
            await stream.aclose()
            task_id = stream.task_id
            stopped = False
            if task_id is not None and not isinstance(exc, DifyDeadlineError):
                stopped = await self._stop_quietly(app_id, task_id)
            replacement = given_up(exc, task_id, stopped)
            if replacement is not None:
                raise replacement from None
            raise
        return folder.result()

    async def _stop_quietly(self, app_id: str, task_id: str) -> bool:
        try:
            await self._drive(self._stop_flow(app_id, task_id))
        except DifyError:
            return False
        return True

    async def _drive(self, flow: Flow[T], deadline: float | None = None) -> T:
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.throw(error) if error else flow.send(result)
            except StopIteration as done:
                value: T = done.value
                return value
            result, error = None, None
            try:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Parallel):
                    outcomes = (self._outcome(sub, deadline) for sub in step.flows)
                    result = await asyncio.gather(*outcomes)
                else:
                    result = await self._execute(step, deadline)
            except DifyError as exc:
                error = exc

    async def _outcome(self, flow: Flow[T], deadline: float | None) -> T | DifyError:
        async with self._parallel:  # a workspace of 100 apps must not open 100 connections at once
            try:
                return await self._drive(flow, deadline)
            except DifyError as exc:
                return exc

    async def _token(self, app_id: str | None) -> str:
        # Resolving a key may run api_key_cmd (up to 30 s) or ask the OS keyring: not on the event loop.
        return await asyncio.to_thread(self._backend.token, app_id)

    async def _execute(self, call: Call, deadline: float | None) -> httpx.Response | dict[str, Any]:
        """One request: its JSON answer, or (a streamed run) the open event stream."""
        token = await self._token(call.app_id)
        url = self.base_url + call.path
        try:
            content = await asyncio.to_thread(call.upload.read_bytes) if call.upload is not None else None
            sent: ProgressReader | bytes | None = content
            if content and call.progress:
                sent = ProgressReader(io.BytesIO(content), call.progress)
            request = self._request(call, token, upload=sent, deadline=deadline)
            sending = self._client_for(call).send(request, stream=True)
            if deadline is None:
                response = await sending
            else:  # a head that drips never trips a read timeout
                response = await self.clock.within(sending, deadline + self._patience(call))
        except asyncio.TimeoutError:
            raise self._past_deadline(url, self._patience(call)) from None
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.InvalidURL as exc:  # not an HTTPError; the constructor's check should catch it first
            raise DifyError(f"invalid URL {url!r}: {exc}") from None
        except httpx.HTTPError as exc:
            raise self._failure(exc, url, deadline, self._patience(call)) from None
        try:
            if is_the_stream(call, response):
                return response
            body = await self._read(response, url, deadline)
        except httpx.HTTPError as exc:
            await response.aclose()
            raise self._failure(exc, url, deadline) from None
        except BaseException:
            await response.aclose()
            raise
        return answer(response, body, self._backend.auth_hint)

    async def _read(self, response: httpx.Response, url: str, deadline: float | None) -> bytes:
        """The whole body; under a deadline, cut where it passes (a drip never trips a read timeout)."""
        if deadline is None:
            return await response.aread()
        try:
            return await self.clock.within(response.aread(), deadline)
        except asyncio.TimeoutError:
            raise self._past_deadline(url) from None
