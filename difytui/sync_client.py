"""``Dify``: the blocking client, driving the shared flows with an ``httpx.Client``."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import httpx

from difytui._http import Call, Flow, Parallel, Sleep, answer, is_the_stream, pool_limits
from difytui.app_api import AppAPI
from difytui.deadline import Watchdog
from difytui.errors import DifyDeadlineError, DifyError
from difytui.flows import ClientCore, RunOutcome, given_up
from difytui.models import AppInfo
from difytui.opening import Opening
from difytui.streams import TASK_ID_WAIT, EventStream
from difytui.upload_progress import ProgressReader

T = TypeVar("T")
#: What a blocking run's start gives: Dify's blocking answer, or the stream and its first event.
_Started = dict[str, Any] | tuple[EventStream, dict[str, Any] | None]


class Dify(ClientCore[httpx.BaseTransport, httpx.Client]):
    """Blocking client. Streaming calls return an ``EventStream`` (an iterator of event dicts).

    Its constructor is ``ClientCore``'s (base_url, apps, user; workspace, timeout, token, deadline,
    clock, transport, reconnect)."""

    @cached_property
    def app(self) -> AppAPI[Dify]:
        """The plugin SDK's ``session.app`` namespace: ``app.chat``, ``app.workflow``…"""
        return AppAPI(self)

    def _pool(self, *, fresh: bool) -> httpx.Client:
        return httpx.Client(
            timeout=self.timeout, transport=self._transport, verify=self._ssl, limits=pool_limits(fresh)
        )

    def close(self) -> None:
        self._http.close()
        if self._fresh is not None:
            self._fresh.close()

    def __enter__(self) -> Dify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def apps(self) -> list[AppInfo]:
        """The workspace's apps (from each app's /info; an app whose /info fails carries ``error``)."""
        return self._run_blocking(self._apps_flow)

    def _run_blocking(self, make_flow: Callable[[], Flow[T]]) -> T:
        return self._drive(make_flow())

    def _run_stream(
        self,
        make_flow: Callable[[], Flow[RunOutcome]],
        app_id: str,
        terminals: frozenset[str] | None = None,
    ) -> EventStream:
        deadline = self._deadline_at()
        response, mode = self._drive(make_flow(), deadline)
        assert isinstance(response, httpx.Response)  # a streamed call's result is its open stream
        return self._event_stream(response, mode, deadline, app_id, terminals)

    def _event_stream(
        self,
        response: httpx.Response,
        mode: str,
        deadline: float | None,
        app_id: str,
        terminals: frozenset[str] | None = None,
    ) -> EventStream:
        return EventStream(
            response,
            mode,
            deadline=deadline,
            seconds=self.deadline,
            clock=self.clock,
            stop=lambda task_id: self._stop_quietly(app_id, task_id),
            terminals=terminals,
            # an app.events listener (``terminals`` given) is not re-attached: see AsyncEventStream
            reattach=None if terminals is not None else self._reattacher(app_id, deadline),
            policy=self.reconnect,
        )

    def _reattacher(self, app_id: str, deadline: float | None) -> Callable[[str], httpx.Response]:
        """Opens the events stream of a run of ``app_id`` (its workflow_run_id) to go on reading there."""
        return lambda run_id: self._drive(self._reattach_flow(app_id, run_id), deadline)

    def _run_folded(self, make_flow: Callable[[], Flow[RunOutcome]], app_id: str) -> dict[str, Any]:
        """A blocking run: streamed, folded into the blocking body; stopped on the server if given up.
        Its request and first event are read on a thread of their own: see :mod:`difytui.opening`."""
        stream: EventStream | None = None
        opening = Opening(lambda: self._start_folded(make_flow, app_id), _close_started)
        try:
            opening.begin()
            started = opening.result()
            if isinstance(started, dict):
                return started  # a blocking request, answered as such
            stream, first = started
            folder = self._folder(stream.mode, stream.response)
            if first is not None:
                folder.add(first)
            for event in stream:
                folder.add(event)
            folder.reattached(stream.reconnects, stream.reconciled_answer)
        except BaseException as exc:
            if stream is None and isinstance(exc, KeyboardInterrupt):
                # Ctrl+C before the first event: it is still read for a while, as it names the task
                late = opening.late(TASK_ID_WAIT)
                stream = late[0] if isinstance(late, tuple) else None
            task_id = None
            if stream is not None:
                stream.close()
                task_id = stream.task_id
            stopped = False
            if task_id is not None and not isinstance(exc, DifyDeadlineError):
                stopped = self._stop_quietly(app_id, task_id)
            replacement = given_up(exc, task_id, stopped)
            if replacement is not None:
                raise replacement from None
            raise
        return folder.result()

    def _start_folded(self, make_flow: Callable[[], Flow[RunOutcome]], app_id: str) -> _Started:
        """A blocking run's request and its stream's first event (or Dify's blocking answer)."""
        deadline = self._deadline_at()
        outcome, mode = self._drive(make_flow(), deadline)
        if not isinstance(outcome, httpx.Response):
            return outcome
        stream = self._event_stream(outcome, mode, deadline, app_id)
        return stream, next(stream, None)

    def _stop_quietly(self, app_id: str, task_id: str) -> bool:
        """Stop a run being given up; whether Dify confirmed it (a failure here must not hide the cause)."""
        try:
            self._drive(self._stop_flow(app_id, task_id))
        except DifyError:
            return False
        return True

    def _drive(self, flow: Flow[T], deadline: float | None = None) -> T:
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
                    time.sleep(step.seconds)
                elif isinstance(step, Parallel):
                    result = [self._outcome(sub, deadline) for sub in step.flows]
                else:
                    result = self._execute(step, deadline)
            except DifyError as exc:
                error = exc

    def _outcome(self, flow: Flow[T], deadline: float | None) -> T | DifyError:
        try:
            return self._drive(flow, deadline)
        except DifyError as exc:
            return exc

    def _execute(self, call: Call, deadline: float | None) -> httpx.Response | dict[str, Any]:
        """One request: its JSON answer, or (a streamed run) the open event stream."""
        token = self._backend.token(call.app_id)
        url = self.base_url + call.path
        http = self._client_for(call)
        patience = self._patience(call)  # a run's stream: past the deadline for the task's name
        head = Watchdog(deadline + patience, self.clock) if deadline is not None else None  # until the head
        trace = head.trace if head is not None else None
        try:
            if call.upload is not None:
                with call.upload.open("rb") as handle:
                    sent = ProgressReader(handle, call.progress) if call.progress else handle
                    request = self._request(call, token, upload=sent, deadline=deadline, trace=trace)
                    response = http.send(request, stream=True)
            else:
                response = http.send(self._request(call, token, deadline=deadline, trace=trace), stream=True)
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.InvalidURL as exc:  # not an HTTPError; the constructor's check should catch it first
            raise DifyError(f"invalid URL {url!r}: {exc}") from None
        except httpx.HTTPError as exc:
            raise self._failure(exc, url, deadline, patience) from None
        finally:
            if head is not None:
                head.cancel()
        try:
            if is_the_stream(call, response):
                return response
            body = self._read(response, url, deadline)
        except httpx.HTTPError as exc:
            response.close()
            raise self._failure(exc, url, deadline) from None
        except BaseException:
            response.close()
            raise
        return answer(response, body, self._backend.auth_hint)

    def _read(self, response: httpx.Response, url: str, deadline: float | None) -> bytes:
        """The whole body; under a deadline, cut where it passes (a drip never trips a read timeout)."""
        if deadline is None:
            return response.read()
        watchdog = Watchdog(deadline, self.clock, response)
        try:
            body = response.read()
        except httpx.HTTPError:
            if watchdog.due():
                raise self._past_deadline(url) from None
            raise
        finally:
            watchdog.cancel()
        if watchdog.fired:  # the body may have been cut short
            raise self._past_deadline(url)
        return body


def _close_started(started: _Started) -> None:
    if isinstance(started, tuple):
        started[0].close()
