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
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
from httpx_sse import EventSource, SSEError

from difytui import __version__
from difytui._http import (
    Call,
    Parallel,
    Sleep,
    api_error,
    connection_error,
    decode_event,
    decode_json,
    not_a_stream,
    retry_delay,
    stream_ended_early,
    terminal_events,
)
from difytui.backends import AccountBackend, Backend, ServiceBackend
from difytui.errors import (
    AmbiguousAppError,
    AppNotFoundError,
    DifyAPIError,
    DifyConnectionError,
    DifyError,
    DifyProtocolError,
)
from difytui.fold import Folder
from difytui.models import INTERFACE_BY_MODE, MODE_LABELS, AppInfo, Interface
from difytui.text import article

ResponseMode = Literal["streaming", "blocking"]
Flow = Generator[Any, Any, Any]


#: How many reads AsyncDify runs at once for one call (the app list asks every app's /info).
PARALLEL_READS = 8


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

    def _request(self, call: Call, token: str, upload: Any = None) -> httpx.Request:
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
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            headers=headers,
            params=params or None,
            json=call.json,
            data=call.form if upload is not None else None,
            files={"file": (call.upload.name, upload)} if upload is not None else None,
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
        body["inputs"] = yield from self._inputs_flow(app_id, body.get("inputs") or {})
        if files:
            body["files"] = yield from self._files_flow(app_id, files)
        call = self._backend.run_call(interface, app_id, body, response_mode == "streaming")
        return (yield from self._call_flow(call)), str(info.get("mode"))

    def _stop_flow(self, app_id: str, task_id: str) -> Flow:
        info = yield from self._info_flow(app_id)
        interface = INTERFACE_BY_MODE.get(str(info.get("mode")), "chat")
        return (yield from self._call_flow(self._backend.stop_call(interface, app_id, task_id)))

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
            return self._client._run_stream(flow)
        if self._client._backend.always_streams:
            return self._client._run_folded(flow)
        return self._client._run_blocking(lambda: _result_only(flow()))


def _result_only(flow: Flow) -> Flow:
    result, _mode = yield from flow
    return result


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


class Dify(_Core):
    """Blocking client. Streaming calls return an ``EventStream`` (an iterator of event dicts)."""

    def __init__(self, *args: Any, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http = httpx.Client(timeout=self.timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Dify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def apps(self) -> list[AppInfo]:
        """The workspace's apps (from each app's /info; an app whose /info fails carries ``error``)."""
        return self._run_blocking(self._apps_flow)

    def _run_blocking(self, make_flow: Callable[[], Flow]) -> Any:
        return self._drive(make_flow())

    def _run_stream(self, make_flow: Callable[[], Flow]) -> EventStream:
        response, mode = self._drive(make_flow())
        return EventStream(response, mode)

    def _run_folded(self, make_flow: Callable[[], Flow]) -> dict[str, Any]:
        with self._run_stream(make_flow) as stream:
            folder = Folder(stream.mode)
            for event in stream:
                folder.add(event)
        return folder.result()

    def _drive(self, flow: Flow) -> Any:
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
                    result = [self._outcome(flow) for flow in step.flows]
                else:
                    result = self._execute(step)
            except DifyError as exc:
                error = exc

    def _outcome(self, flow: Flow) -> Any:
        try:
            return self._drive(flow)
        except DifyError as exc:
            return exc

    def _execute(self, call: Call) -> Any:
        if call.stream:
            return self._open(call)
        token = self._backend.token(call.app_id)
        url = self.base_url + call.path
        try:
            if call.upload is not None:
                with call.upload.open("rb") as handle:
                    response = self._http.send(self._request(call, token, upload=handle))
            else:
                response = self._http.send(self._request(call, token))
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None
        if response.status_code >= 400:
            raise api_error(response, response.content, hint_401=self._backend.auth_hint)
        return decode_json(response, response.content)

    def _open(self, call: Call) -> httpx.Response:
        url = self.base_url + call.path
        try:
            response = self._http.send(self._request(call, self._backend.token(call.app_id)), stream=True)
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None
        try:
            if response.status_code >= 400:
                raise api_error(response, response.read(), hint_401=self._backend.auth_hint)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                raise not_a_stream(response)
        except httpx.HTTPError as exc:  # reading the error body failed
            response.close()
            raise connection_error(exc, url) from None
        except BaseException:
            response.close()
            raise
        return response


class EventStream:
    """The events of one streamed run, as Dify sent them (pings left out); closes after the last one.

    Iterate it, or use it as a context manager to close it early. ``close()`` is safe to call twice.
    """

    def __init__(self, response: httpx.Response, mode: str) -> None:
        self.response = response
        #: the app's mode (chat, advanced-chat, workflow…): it decides which event is the last.
        self.mode = mode
        self._terminals = terminal_events(mode)
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
        url = str(self.response.request.url)
        try:
            for sse in EventSource(self.response).iter_sse():
                if sse.event == "ping":
                    continue
                event = decode_event(sse.data, url)
                yield event
                if event.get("event") in self._terminals:
                    return
        except (httpx.HTTPError, SSEError) as exc:
            raise connection_error(exc, url, streaming=True) from None
        finally:
            # Closing ourselves matters: after an `error` event Dify keeps the connection silent for 300 s.
            self.response.close()
        raise stream_ended_early(url)


# -- the asyncio client -------------------------------------------------------------------


class AsyncDify(_Core):
    """Asyncio client: ``await`` blocking calls; ``async for`` over streaming ones."""

    def __init__(self, *args: Any, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http = httpx.AsyncClient(timeout=self.timeout, transport=transport)
        self._parallel = asyncio.Semaphore(PARALLEL_READS)

    async def close(self) -> None:
        await self._http.aclose()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> AsyncDify:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def apps(self) -> list[AppInfo]:
        return await self._run_blocking(self._apps_flow)

    async def _run_blocking(self, make_flow: Callable[[], Flow]) -> Any:
        return await self._drive(make_flow())

    def _run_stream(self, make_flow: Callable[[], Flow]) -> AsyncEventStream:
        return AsyncEventStream(self, make_flow)

    async def _run_folded(self, make_flow: Callable[[], Flow]) -> dict[str, Any]:
        async with self._run_stream(make_flow) as stream:
            folder = Folder(stream.mode)
            async for event in stream:
                folder.add(event)
        return folder.result()

    async def _drive(self, flow: Flow) -> Any:
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
                    result = await asyncio.gather(*(self._outcome(flow) for flow in step.flows))
                else:
                    result = await self._execute(step)
            except DifyError as exc:
                error = exc

    async def _outcome(self, flow: Flow) -> Any:
        async with self._parallel:  # a workspace of 100 apps must not open 100 connections at once
            try:
                return await self._drive(flow)
            except DifyError as exc:
                return exc

    async def _token(self, app_id: str | None) -> str:
        # Resolving a key may run api_key_cmd (up to 30 s) or ask the OS keyring: not on the event loop.
        return await asyncio.to_thread(self._backend.token, app_id)

    async def _execute(self, call: Call) -> Any:
        if call.stream:
            return await self._open(call)
        token = await self._token(call.app_id)
        url = self.base_url + call.path
        try:
            content = await asyncio.to_thread(call.upload.read_bytes) if call.upload is not None else None
            response = await self._http.send(self._request(call, token, upload=content))
        except OSError as exc:
            raise DifyError(f"cannot read {call.upload}: {exc.strerror or exc}") from None
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None
        if response.status_code >= 400:
            raise api_error(response, response.content, hint_401=self._backend.auth_hint)
        return decode_json(response, response.content)

    async def _open(self, call: Call) -> httpx.Response:
        url = self.base_url + call.path
        token = await self._token(call.app_id)
        try:
            response = await self._http.send(self._request(call, token), stream=True)
        except httpx.HTTPError as exc:
            raise connection_error(exc, url) from None
        try:
            if response.status_code >= 400:
                raise api_error(response, await response.aread(), hint_401=self._backend.auth_hint)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                raise not_a_stream(response)
        except httpx.HTTPError as exc:  # reading the error body failed
            await response.aclose()
            raise connection_error(exc, url) from None
        except BaseException:
            await response.aclose()
            raise
        return response


class AsyncEventStream:
    """Async twin of ``EventStream``: ``async for event in stream``; ``await stream`` opens it early."""

    def __init__(self, client: AsyncDify, make_flow: Callable[[], Flow]) -> None:
        self._client = client
        self._make_flow = make_flow
        self.response: httpx.Response | None = None
        self.mode = ""
        self._terminals: frozenset[str] = frozenset()
        self._events: AsyncIterator[dict[str, Any]] | None = None

    async def open(self) -> AsyncEventStream:
        if self.response is None:
            self.response, self.mode = await self._client._drive(self._make_flow())
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
        try:
            async for sse in EventSource(response).aiter_sse():
                if sse.event == "ping":
                    continue
                event = decode_event(sse.data, url)
                yield event
                if event.get("event") in self._terminals:
                    return
        except (httpx.HTTPError, SSEError) as exc:
            raise connection_error(exc, url, streaming=True) from None
        finally:
            await response.aclose()
        raise stream_ended_early(url)
