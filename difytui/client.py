"""``Dify`` and ``AsyncDify``: the plugin SDK's app-invocation interface over Dify's HTTP APIs.

Both clients share one implementation of every request: the *flows* in ``_Core`` are generators
that yield ``Call``/``Sleep``/``Parallel`` steps and receive results (or have errors thrown into
them). ``Dify`` drives them with a blocking ``httpx.Client``; ``AsyncDify`` with an
``httpx.AsyncClient``. Only the drivers and the event-stream loops exist twice, because one is
``await``-ed and the other is not. Where the apps live (per-app keys on ``/v1``, or a login on
``/openapi/v1``) is the backend's business (:mod:`difytui.backends`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import socket
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, cast

import httpx

from difytui import __version__
from difytui._http import (
    Call,
    Parallel,
    Sleep,
    SSEParser,
    api_error,
    connection_error,
    decode_event,
    decode_json,
    is_event_stream,
    is_json,
    is_terminal,
    not_a_stream,
    retry_delay,
    stream_ended_early,
    task_id_of,
    terminal_events,
)
from difytui.backends import AccountBackend, Backend, ServiceBackend
from difytui.errors import (
    AmbiguousAppError,
    AppNotFoundError,
    DifyAPIError,
    DifyConnectionError,
    DifyDeadlineError,
    DifyError,
    DifyProtocolError,
    RunInterrupted,
)
from difytui.fold import Folder
from difytui.models import INTERFACE_BY_MODE, MODE_LABELS, AppInfo, Interface
from difytui.text import article

ResponseMode = Literal["streaming", "blocking"]
Flow = Generator[Any, Any, Any]


#: How many reads AsyncDify runs at once for one call (the app list asks every app's /info).
PARALLEL_READS = 8
#: Seconds a stop call may take at most: Dify answers at once, and a stop often runs on the way out.
STOP_TIMEOUT = 10.0
#: Modes whose blocking requests Dify refuses (400): sent as asked, so the error stays Dify's own.
#: Every other blocking run streams under the hood and is folded (a task id to stop at any time).
_NO_BLOCKING = frozenset({"agent-chat", "agent"})


class _Core:
    """Configuration, caches and the request flows shared by both clients."""

    def __init__(
        self,
        base_url: str | None = None,
        apps: Mapping[str, Any] | None = None,
        user: str | None = None,
        *,
        workspace: Any = None,
        timeout: float | None = None,
        token: Any = None,
        deadline: float | None = None,
    ) -> None:
        from difytui.config import AppEntry, Workspace, default_user

        if workspace is None:
            if not base_url:
                raise DifyError("Dify needs a base_url (e.g. http://localhost/v1) or a workspace")
            entries = {
                app_id: key if isinstance(key, AppEntry) else AppEntry.from_key(app_id, key)
                for app_id, key in (apps or {}).items()
            }
            workspace = Workspace(
                name="default",
                base_url=base_url.rstrip("/"),
                user=user or default_user(),
                apps=entries,
                timeout=timeout or 120.0,
                source="arguments",
            )
        self.workspace = workspace
        self.user: str = user or workspace.user
        self.base_url: str = workspace.base_url
        self.timeout = httpx.Timeout(connect=10.0, read=timeout or workspace.timeout, write=30.0, pool=10.0)
        #: Seconds a whole run (invoke call) may take, or None (unlimited, the default): when it
        #: passes, the run is stopped on the server and DifyDeadlineError is raised.
        self.deadline: float | None = deadline if deadline is not None else workspace.deadline
        if self.deadline is not None and (
            isinstance(self.deadline, bool)
            or not isinstance(self.deadline, (int, float))
            or not math.isfinite(self.deadline)
            or self.deadline <= 0
        ):
            raise DifyError(f"deadline must be a number of seconds greater than 0, not {self.deadline!r}")
        self._info: dict[str, dict[str, Any]] = {}
        self._backend: Backend
        if workspace.kind == "account":
            from difytui.secrets import Secret

            secret = Secret(token) if isinstance(token, str) else token
            self._backend = AccountBackend(workspace, self.user, secret)
        else:
            self._backend = ServiceBackend(workspace, self.user)
        self.app = AppAPI(self)

    @classmethod
    def from_config(cls, path: str | Path | None = None, workspace: str | None = None, **kwargs: Any):
        """A client for ``workspace`` (default: the config's default) of the config file or environment."""
        from difytui.config import load_config

        return cls(workspace=load_config(path).workspace(workspace), **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name!r}, base_url={self.base_url!r})"

    @property
    def has_history(self) -> bool:
        """Whether conversations and messages can be listed (not on account workspaces)."""
        return self._backend.has_history

    # -- plumbing shared by both drivers -------------------------------------------------

    def _deadline_at(self) -> float | None:
        """The time.monotonic() by which a run starting now must end, if there is a deadline."""
        return None if self.deadline is None else time.monotonic() + self.deadline

    def _timeouts(self, call: Call, deadline: float | None) -> httpx.Timeout | None:
        """The call's own timeouts (a stop's are short), each cut to what is left before the deadline."""
        base = self.timeout if call.timeout is None else httpx.Timeout(call.timeout)
        if deadline is None:
            return None if call.timeout is None else base
        left = max(deadline - time.monotonic(), 0.001)

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cut(base.connect), read=cut(base.read), write=cut(base.write), pool=cut(base.pool)
        )

    def _failure(self, exc: httpx.HTTPError, url: str, deadline: float | None) -> DifyError:
        """What a request's httpx error means: the deadline passing (its timeouts are cut to it)."""
        if deadline is not None and time.monotonic() >= deadline - 0.01:
            return self._past_deadline(url)
        return connection_error(exc, url)

    def _past_deadline(self, url: str) -> DifyDeadlineError:
        """The deadline passed before Dify named the run's task: nothing to stop."""
        return DifyDeadlineError(self.deadline or 0.0, url, None, False)

    def _request(
        self,
        call: Call,
        token: str,
        upload: Any = None,
        deadline: float | None = None,
        trace: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> httpx.Request:
        """Build the httpx request for ``call``; ``upload`` is the opened file (or bytes) to send."""
        headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": f"difytui/{__version__}",
        }
        if call.stream:
            headers["Accept"] = "text/event-stream"
        params = dict(call.params or {})
        if call.method == "GET" and self._backend.sends_user:
            params.setdefault("user", self.user)
        timeouts = self._timeouts(call, deadline)
        extensions: dict[str, Any] = {}
        if timeouts is not None:
            extensions["timeout"] = timeouts.as_dict()
        if trace is not None:
            extensions["trace"] = trace
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            headers=headers,
            params=params or None,
            json=call.json,
            data=call.form if upload is not None else None,
            files={"file": (call.upload.name, upload)} if upload is not None else None,
            extensions=extensions or None,
        )

    # -- flows: generators yielding Call/Sleep, receiving results ------------------------

    def _call_flow(self, call: Call) -> Flow:
        """One request; on an account workspace a 500 is checked for an expired login."""
        try:
            return (yield call)
        except DifyAPIError as error:
            yield from self._backend.check_token_flow(self, error)
            raise

    def _read_flow(self, call: Call) -> Flow:
        """A read, retried with backoff on connection errors, 429 (Retry-After) and 502/503/504."""
        call.idempotent = True
        attempt = 0
        while True:
            attempt += 1
            try:
                return (yield from self._call_flow(call))
            except DifyError as error:
                delay = retry_delay(error, attempt)
                if delay is None:
                    raise
                yield Sleep(delay)

    def _info_flow(self, app_id: str) -> Flow:
        if app_id not in self._info:
            self._info[app_id] = yield from self._backend.info_flow(self, app_id)
        return self._info[app_id]

    def _interface_flow(self, app_id: str, interface: Interface) -> Flow:
        """The app's /info, after checking that ``interface`` is the one that serves its mode."""
        info = yield from self._info_flow(app_id)
        mode = str(info.get("mode", ""))
        actual = INTERFACE_BY_MODE.get(mode)
        if actual is None:
            raise DifyError(f"app {app_id!r} has mode {mode!r}, which difytui cannot invoke")
        if actual != interface:
            raise DifyError(
                f"app {app_id!r} is {article(MODE_LABELS.get(mode, mode))} app (mode {mode!r}): "
                f"use app.{actual}.invoke(), not app.{interface}.invoke()"
            )
        return info

    def _apps_flow(self) -> Flow:
        app_ids = yield from self._backend.app_ids_flow(self)
        outcomes = yield Parallel([self._info_flow(app_id) for app_id in app_ids])
        apps = []
        for app_id, outcome in zip(app_ids, outcomes, strict=True):
            if isinstance(outcome, DifyConnectionError):
                raise outcome  # the server is unreachable: say it once, not once per app
            if isinstance(outcome, DifyError):
                apps.append(AppInfo(app_id, app_id, "", None, "", error=str(outcome)))
                continue
            mode = str(outcome.get("mode", ""))
            apps.append(
                AppInfo(
                    id=app_id,
                    name=str(outcome.get("name") or app_id),
                    mode=mode,
                    interface=INTERFACE_BY_MODE.get(mode),
                    description=str(outcome.get("description") or ""),
                )
            )
        return apps

    def _resolve_flow(self, ref: str) -> Flow:
        """The id of the app ``ref`` names: an app id, else a unique app name (exact, then ignoring case).

        Names are looked up only when ``ref`` is no id, so an id costs what it always did (on an
        account workspace the names come with the app list; with keys, from each app's /info).
        """
        try:
            yield from self._backend.known_flow(self, ref)
            return ref
        except AppNotFoundError as error:
            not_found = error
        apps = [app for app in (yield from self._apps_flow()) if app.error is None]
        for same in (lambda name: name == ref, lambda name: name.casefold() == ref.casefold()):
            named = [app for app in apps if same(app.name)]
            if len(named) == 1:
                return named[0].id
            if named:
                raise AmbiguousAppError(ref, self.workspace.name, [(app.id, app.name) for app in named])
        raise not_found

    def _upload_flow(self, app_id: str, path: Path) -> Flow:
        from difytui.forms import file_type_of

        if not path.is_file():
            raise DifyError(f"cannot upload {path}: no such file")
        uploaded = yield from self._call_flow(self._backend.upload_call(app_id, path))
        if not uploaded.get("id"):
            raise DifyProtocolError(f"the upload of {path.name} was answered without a file id")
        return {
            "type": file_type_of(path.name),
            "transfer_method": "local_file",
            "upload_file_id": uploaded["id"],
        }

    def _file_flow(self, app_id: str, item: Any) -> Flow:
        """One entry of ``files`` or a file input → Dify's file mapping (uploading local paths)."""
        from difytui.forms import file_type_of, is_url

        if isinstance(item, Mapping):
            return dict(item)
        if is_url(item):
            return {"type": file_type_of(item.split("?", 1)[0]), "transfer_method": "remote_url", "url": item}
        if isinstance(item, (str, Path)):
            return (yield from self._upload_flow(app_id, Path(item)))
        raise DifyError(
            f"cannot send {type(item).__name__} as a file: give a path, a URL or a Dify file dict"
        )

    def _files_flow(self, app_id: str, items: Any) -> Flow:
        mappings = []
        for item in items:
            mappings.append((yield from self._file_flow(app_id, item)))
        return mappings

    def _inputs_flow(self, app_id: str, inputs: Mapping[str, Any]) -> Flow:
        """``inputs`` with every ``Path`` value (or list of them) uploaded and replaced by its mapping."""
        prepared: dict[str, Any] = {}
        for name, value in inputs.items():
            if isinstance(value, Path):
                value = yield from self._file_flow(app_id, value)
            elif isinstance(value, (list, tuple)) and any(isinstance(v, Path) for v in value):
                value = yield from self._files_flow(app_id, value)
            prepared[name] = value
        return prepared

    def _run_flow(
        self,
        interface: Interface,
        app_id: str,
        body: dict[str, Any],
        files: list[Any] | None,
        response_mode: ResponseMode,
    ) -> Flow:
        """A whole run: mode check, uploads, then the request. Returns (result or response, app mode).

        A streamed run returns the open response (the driver's stream type reads it); on an account
        workspace, which only streams, a blocking run does too and the driver folds the events.
        """
        if response_mode not in ("streaming", "blocking"):
            raise DifyError(f"response_mode must be 'streaming' or 'blocking', not {response_mode!r}")
        info = yield from self._interface_flow(app_id, interface)
        mode = str(info.get("mode"))
        body["inputs"] = yield from self._inputs_flow(app_id, body.get("inputs") or {})
        if files:
            body["files"] = yield from self._files_flow(app_id, files)
        streaming = response_mode == "streaming" or mode not in _NO_BLOCKING
        call = self._backend.run_call(interface, app_id, body, streaming)
        call.blocking = response_mode == "blocking"
        outcome = yield from self._call_flow(call)
        if isinstance(outcome, dict) and not outcome:
            raise DifyProtocolError(f"{self.base_url + call.path} answered the run with an empty JSON object")
        return outcome, mode

    def _stop_flow(self, app_id: str, task_id: str) -> Flow:
        info = yield from self._info_flow(app_id)
        interface = INTERFACE_BY_MODE.get(str(info.get("mode")), "chat")
        call = self._backend.stop_call(interface, app_id, task_id)
        call.timeout = min(STOP_TIMEOUT, self.timeout.read or STOP_TIMEOUT)
        return (yield from self._call_flow(call))

    def _folder(self, mode: str, response: httpx.Response) -> Folder:
        # The Service API's fold gives exactly its blocking body's keys; the account API has none to match.
        return Folder(mode, url=str(response.request.url), exact=not self._backend.always_streams)

    def _parameters_flow(self, app_id: str) -> Flow:
        return (yield from self._backend.parameters_flow(self, app_id))

    def _history_flow(self, app_id: str, what: str, params: dict[str, Any]) -> Flow:
        path = self._backend.history_path(what)
        yield from self._backend.known_flow(self, app_id)
        return (yield from self._read_flow(Call("GET", path, app_id, params=params)))


class AppAPI:
    """``client.app``: the plugin SDK's ``session.app`` namespace."""

    def __init__(self, client: _Core) -> None:
        self._client = client
        self.chat = ChatAPI(client)
        self.workflow = WorkflowAPI(client)
        self.completion = CompletionAPI(client)

    def info(self, app_id: str):
        """The app's ``/info`` (name, description, tags, mode, author_name); cached per client."""
        return self._client._run_blocking(lambda: self._client._info_flow(app_id))

    def resolve(self, app: str):
        """The id of ``app``, given by id or by a name only one app of the workspace has.

        Raises ``AppNotFoundError``, or its ``AmbiguousAppError`` that names every candidate."""
        return self._client._run_blocking(lambda: self._client._resolve_flow(app))

    def parameters(self, app_id: str):
        """The app's ``/parameters``: opening statement, suggested questions, ``user_input_form``…"""
        return self._client._run_blocking(lambda: self._client._parameters_flow(app_id))

    def stop(self, app_id: str, task_id: str):
        """Ask Dify to stop a running task (``task_id`` from the stream). Dify always answers success."""
        return self._client._run_blocking(lambda: self._client._stop_flow(app_id, task_id))

    def conversations(self, app_id: str, limit: int = 20):
        """The user's conversations with a chat app, newest first."""
        flow = lambda: self._client._history_flow(app_id, "conversations", {"limit": limit})  # noqa: E731
        return self._client._run_blocking(flow)

    def messages(self, app_id: str, conversation_id: str, limit: int = 20):
        """The newest messages of a conversation, oldest first."""
        params = {"conversation_id": conversation_id, "limit": limit}
        return self._client._run_blocking(lambda: self._client._history_flow(app_id, "messages", params))


class _InterfaceAPI:
    interface: Interface

    def __init__(self, client: _Core) -> None:
        self._client = client

    def _invoke(self, app_id, body, files, response_mode):
        def flow() -> Flow:
            return self._client._run_flow(self.interface, app_id, body, files, response_mode)

        if response_mode == "streaming":
            return self._client._run_stream(flow, app_id)
        return self._client._run_folded(flow, app_id)


class ChatAPI(_InterfaceAPI):
    """Chatbot, agent and chatflow apps."""

    interface: Interface = "chat"

    def invoke(
        self,
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        conversation_id: str | None = None,
        files: list[Any] | None = None,
    ):
        body: dict[str, Any] = {"query": query, "inputs": dict(inputs or {})}
        if conversation_id:
            body["conversation_id"] = conversation_id
        return self._invoke(app_id, body, files, response_mode)


class WorkflowAPI(_InterfaceAPI):
    interface: Interface = "workflow"

    def invoke(
        self,
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        files: list[Any] | None = None,
    ):
        return self._invoke(app_id, {"inputs": dict(inputs or {})}, files, response_mode)


class CompletionAPI(WorkflowAPI):
    interface: Interface = "completion"


# -- the blocking client ------------------------------------------------------------------


def _fresh_limits() -> httpx.Limits:
    # Runs, uploads and stops (never retried) each get a new connection. A keep-alive connection the
    # server closed right after its last answer fails the next request on it with "connection reset"
    # (82 in 500 sync runs against a loopback server that closes after each response; 0 in 500 on
    # fresh connections). Retrying instead is unsafe: that failure looks exactly like a server that
    # read the request, started the run and died. Reads keep their pool: they are retried.
    return httpx.Limits(max_keepalive_connections=0)


class Dify(_Core):
    """Blocking client. Streaming calls return an ``EventStream`` (an iterator of event dicts)."""

    def __init__(self, *args: Any, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl = httpx.create_ssl_context()  # built once, shared by both pools
        self._transport = transport
        self._http = httpx.Client(timeout=self.timeout, transport=transport, verify=self._ssl)
        self._fresh: httpx.Client | None = None

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

    def _client_for(self, call: Call) -> httpx.Client:
        if call.idempotent:
            return self._http
        if self._fresh is None:
            self._fresh = httpx.Client(
                timeout=self.timeout, transport=self._transport, verify=self._ssl, limits=_fresh_limits()
            )
        return self._fresh

    def _run_blocking(self, make_flow: Callable[[], Flow]) -> Any:
        return self._drive(make_flow())

    def _run_stream(self, make_flow: Callable[[], Flow], app_id: str) -> EventStream:
        deadline = self._deadline_at()
        response, mode = self._drive(make_flow(), deadline)
        return self._event_stream(response, mode, deadline, app_id)

    def _event_stream(
        self, response: httpx.Response, mode: str, deadline: float | None, app_id: str
    ) -> EventStream:
        return EventStream(
            response,
            mode,
            deadline=deadline,
            seconds=self.deadline,
            stop=lambda task_id: self._stop_quietly(app_id, task_id),
        )

    def _run_folded(self, make_flow: Callable[[], Flow], app_id: str) -> dict[str, Any]:
        """A blocking run: streamed, folded into the blocking body; stopped on the server if given up."""
        stream: EventStream | None = None
        try:
            deadline = self._deadline_at()
            outcome, mode = self._drive(make_flow(), deadline)
            if not isinstance(outcome, httpx.Response):
                return outcome  # a blocking request, answered as such
            stream = self._event_stream(outcome, mode, deadline, app_id)
            folder = self._folder(mode, outcome)
            for event in stream:
                folder.add(event)
        except BaseException as exc:
            task_id = None
            if stream is not None:
                stream.close()
                task_id = stream.task_id
            stopped = False
            if task_id is not None and not isinstance(exc, DifyDeadlineError):
                stopped = self._stop_quietly(app_id, task_id)
            replacement = _given_up(exc, task_id, stopped)
            if replacement is not None:
                raise replacement from None
            raise
        return folder.result()

    def _stop_quietly(self, app_id: str, task_id: str) -> bool:
        """Stop a run being given up; whether Dify confirmed it (a failure here must not hide the cause)."""
        try:
            self._drive(self._stop_flow(app_id, task_id))
        except DifyError:
            return False
        return True

    def _drive(self, flow: Flow, deadline: float | None = None) -> Any:
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.throw(error) if error else flow.send(result)
            except StopIteration as done:
                return done.value
            result, error = None, None
            try:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                elif isinstance(step, Parallel):
                    result = [self._outcome(flow, deadline) for flow in step.flows]
                else:
                    result = self._execute(step, deadline)
            except DifyError as exc:
                error = exc

    def _outcome(self, flow: Flow, deadline: float | None) -> Any:
        try:
            return self._drive(flow, deadline)
        except DifyError as exc:
            return exc

    def _execute(self, call: Call, deadline: float | None) -> Any:
        """One request: its JSON answer, or (a streamed run) the open event stream."""
        token = self._backend.token(call.app_id)
        url = self.base_url + call.path
        http = self._client_for(call)
        head = _Watchdog(deadline) if deadline is not None else None  # until the head has arrived
        trace = head.trace if head is not None else None
        try:
            if call.upload is not None:
                with call.upload.open("rb") as handle:
                    request = self._request(call, token, upload=handle, deadline=deadline, trace=trace)
                    response = http.send(request, stream=True)
            else:
                response = http.send(self._request(call, token, deadline=deadline, trace=trace), stream=True)
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.HTTPError as exc:
            raise self._failure(exc, url, deadline) from None
        finally:
            if head is not None:
                head.cancel()
        try:
            if _is_the_stream(call, response):
                return response
            body = self._read(response, url, deadline)
        except httpx.HTTPError as exc:
            response.close()
            raise self._failure(exc, url, deadline) from None
        except BaseException:
            response.close()
            raise
        return _answer(response, body, self._backend.auth_hint)

    def _read(self, response: httpx.Response, url: str, deadline: float | None) -> bytes:
        """The whole body; under a deadline, cut where it passes (a drip never trips a read timeout)."""
        if deadline is None:
            return response.read()
        watchdog = _Watchdog(deadline, response)
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


def _is_the_stream(call: Call, response: httpx.Response) -> bool:
    """Whether ``response`` is the event stream ``call`` asked for. False: its body is the answer (an
    error, or a blocking run answered in full); a success that is neither raises (unread: it may be
    endless)."""
    status = response.status_code
    if not call.stream or status >= 400:
        return False
    if 200 <= status < 300 and is_event_stream(response):
        return True
    if call.blocking and 200 <= status < 300 and is_json(response):
        return False  # the server (or a proxy) answered in blocking mode anyway: that is the result
    raise not_a_stream(response)


def _answer(response: httpx.Response, body: bytes, auth_hint: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise api_error(response, body, hint_401=auth_hint)
    return decode_json(response, body)


def _given_up(exc: BaseException, task_id: str | None, stopped: bool) -> BaseException | None:
    """After a blocking run was given up: the exception to raise instead of ``exc``, if any."""
    if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, RunInterrupted):
        return RunInterrupted(task_id, stopped)
    if stopped and isinstance(exc, DifyError):
        exc.stopped_task = task_id
    return None


class _Watchdog:
    """Ends a read blocked past the deadline: a timer thread shuts the socket down. A read timeout
    cannot: httpx applies it to each read, so endless pings or a byte a second never trip it.

    Before the response exists (a head that drips), the socket is the one httpcore reports through
    the request's ``trace`` extension when it connects: runs always go out on a new connection.
    """

    def __init__(self, deadline: float, response: httpx.Response | None = None) -> None:
        self.deadline = deadline
        self.fired = False
        self._response = response
        self._connected: Any = None
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._connected = info.get("return_value")

    def due(self) -> bool:
        return self.fired or time.monotonic() >= self.deadline

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        if self._response is not None:
            stream = self._response.extensions.get("network_stream")
        else:
            stream = self._connected
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                # socket.socket's own shutdown, also under TLS: it wakes the blocked read at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class EventStream:
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
    ) -> None:
        self.response = response
        #: the app's mode (chat, advanced-chat, workflow…): it decides which event is the last.
        self.mode = mode
        self.task_id: str | None = None
        self._terminals = terminal_events(mode)
        self._deadline = deadline
        self._seconds = seconds
        self._stop = stop
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

    def _iterate(self) -> Iterator[dict[str, Any]]:
        response = self.response
        url = str(response.request.url)
        parser = SSEParser()
        terminals = self._terminals
        watchdog = _Watchdog(self._deadline, response) if self._deadline is not None else None
        try:
            for chunk in itertools.chain(response.iter_bytes(), (None,)):  # None: the end
                for data in parser.feed(chunk):
                    event = decode_event(data, url)
                    if self.task_id is None:
                        self.task_id = task_id_of(event)
                    yield event
                    if is_terminal(event, terminals):
                        return
                if watchdog is not None and watchdog.due():
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
            raise self._expired(url)
        raise stream_ended_early(url)

    def _expired(self, url: str) -> DifyDeadlineError:
        task_id = self.task_id
        stopped = bool(task_id and self._stop is not None and self._stop(task_id))
        return DifyDeadlineError(self._seconds or 0.0, url, task_id, stopped)


# -- the asyncio client -------------------------------------------------------------------


class AsyncDify(_Core):
    """Asyncio client: ``await`` blocking calls; ``async for`` over streaming ones."""

    def __init__(self, *args: Any, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl = httpx.create_ssl_context()  # built once, shared by both pools
        self._transport = transport
        self._http = httpx.AsyncClient(timeout=self.timeout, transport=transport, verify=self._ssl)
        self._fresh: httpx.AsyncClient | None = None
        self._parallel = asyncio.Semaphore(PARALLEL_READS)

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

    def _client_for(self, call: Call) -> httpx.AsyncClient:
        if call.idempotent:
            return self._http
        if self._fresh is None:
            self._fresh = httpx.AsyncClient(
                timeout=self.timeout, transport=self._transport, verify=self._ssl, limits=_fresh_limits()
            )
        return self._fresh

    async def _run_blocking(self, make_flow: Callable[[], Flow]) -> Any:
        return await self._drive(make_flow())

    def _run_stream(self, make_flow: Callable[[], Flow], app_id: str) -> AsyncEventStream:
        return AsyncEventStream(self, make_flow, app_id)

    async def _run_folded(self, make_flow: Callable[[], Flow], app_id: str) -> dict[str, Any]:
        """A blocking run: streamed, folded into the blocking body; stopped on the server if given up
        (cancelled, timed out, past its deadline…)."""
        stream = AsyncEventStream(self, make_flow, app_id)
        try:
            await stream.open()
            if not isinstance(stream.response, httpx.Response):
                return stream.answer  # a blocking request, answered as such
            folder = self._folder(stream.mode, stream.response)
            async for event in stream:
                folder.add(event)
        except BaseException as exc:
            await stream.aclose()
            task_id = stream.task_id
            stopped = False
            if task_id is not None and not isinstance(exc, DifyDeadlineError):
                stopped = await self._stop_quietly(app_id, task_id)
            replacement = _given_up(exc, task_id, stopped)
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

    async def _drive(self, flow: Flow, deadline: float | None = None) -> Any:
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.throw(error) if error else flow.send(result)
            except StopIteration as done:
                return done.value
            result, error = None, None
            try:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Parallel):
                    outcomes = (self._outcome(flow, deadline) for flow in step.flows)
                    result = await asyncio.gather(*outcomes)
                else:
                    result = await self._execute(step, deadline)
            except DifyError as exc:
                error = exc

    async def _outcome(self, flow: Flow, deadline: float | None) -> Any:
        async with self._parallel:  # a workspace of 100 apps must not open 100 connections at once
            try:
                return await self._drive(flow, deadline)
            except DifyError as exc:
                return exc

    async def _token(self, app_id: str | None) -> str:
        # Resolving a key may run api_key_cmd (up to 30 s) or ask the OS keyring: not on the event loop.
        return await asyncio.to_thread(self._backend.token, app_id)

    async def _execute(self, call: Call, deadline: float | None) -> Any:
        """One request: its JSON answer, or (a streamed run) the open event stream."""
        token = await self._token(call.app_id)
        url = self.base_url + call.path
        try:
            content = await asyncio.to_thread(call.upload.read_bytes) if call.upload is not None else None
            request = self._request(call, token, upload=content, deadline=deadline)
            sending = self._client_for(call).send(request, stream=True)
            if deadline is None:
                response = await sending
            else:  # a head that drips never trips a read timeout
                response = await asyncio.wait_for(sending, max(deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            raise self._past_deadline(url) from None
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.HTTPError as exc:
            raise self._failure(exc, url, deadline) from None
        try:
            if _is_the_stream(call, response):
                return response
            body = await self._read(response, url, deadline)
        except httpx.HTTPError as exc:
            await response.aclose()
            raise self._failure(exc, url, deadline) from None
        except BaseException:
            await response.aclose()
            raise
        return _answer(response, body, self._backend.auth_hint)

    async def _read(self, response: httpx.Response, url: str, deadline: float | None) -> bytes:
        """The whole body; under a deadline, cut where it passes (a drip never trips a read timeout)."""
        if deadline is None:
            return await response.aread()
        try:
            return await asyncio.wait_for(response.aread(), max(deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            raise self._past_deadline(url) from None


class AsyncEventStream:
    """Async twin of ``EventStream``: ``async for event in stream``; ``await stream`` opens it early."""

    def __init__(self, client: AsyncDify, make_flow: Callable[[], Flow], app_id: str) -> None:
        self._client = client
        self._make_flow = make_flow
        self._app_id = app_id
        self.response: httpx.Response | None = None
        #: a blocking run's answer, when Dify was asked for one (agent apps): see AsyncDify._run_folded
        self.answer: Any = None
        self.mode = ""
        self.task_id: str | None = None
        self._terminals: frozenset[str] = frozenset()
        self._deadline: float | None = None
        self._expired = False
        self._events: AsyncIterator[dict[str, Any]] | None = None

    async def open(self) -> AsyncEventStream:
        if self.response is None and self.answer is None:
            self._deadline = self._client._deadline_at()
            outcome, self.mode = await self._client._drive(self._make_flow(), self._deadline)
            if isinstance(outcome, httpx.Response):
                self.response = outcome
            else:
                self.answer = outcome
            self._terminals = terminal_events(self.mode)
        return self

    def __await__(self):
        return self.open().__await__()

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

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        await self.open()
        response = self.response
        assert response is not None
        url = str(response.request.url)
        parser = SSEParser()
        terminals = self._terminals
        if self._deadline is None:
            body = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
        else:
            body = self._until(response, self._deadline)
        chunks = _then_end(body)
        try:
            async for chunk in chunks:
                for data in parser.feed(chunk):
                    event = decode_event(data, url)
                    if self.task_id is None:
                        self.task_id = task_id_of(event)
                    yield event
                    if is_terminal(event, terminals):
                        return
        except httpx.HTTPError as exc:
            raise connection_error(exc, url, streaming=True) from None
        finally:
            await chunks.aclose()
            await response.aclose()
        if self._expired:
            task_id = self.task_id
            stopped = bool(task_id and await self._client._stop_quietly(self._app_id, task_id))
            raise DifyDeadlineError(self._client.deadline or 0.0, url, task_id, stopped)
        raise stream_ended_early(url)

    async def _until(self, response: httpx.Response, deadline: float) -> AsyncGenerator[bytes, None]:
        """The body's chunks until the deadline (then ``_expired``), however slowly they come."""
        chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._expired = True
                    return
                try:
                    chunk = await asyncio.wait_for(_next(chunks), left)
                except asyncio.TimeoutError:
                    self._expired = True
                    return
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
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
