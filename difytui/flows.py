"""The sans-io core shared by ``Dify`` and ``AsyncDify``: configuration, caches and request *flows*.

A flow is a generator that yields ``Call``/``Sleep``/``Parallel`` steps and receives their results
(or has errors thrown into it); the drivers (:mod:`difytui.sync_client`, :mod:`difytui.async_client`)
perform the steps. Where the apps live is the backend's business (:mod:`difytui.backends`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

import httpx

from difytui import __version__
from difytui._http import (
    Call,
    Flow,
    Parallel,
    Sleep,
    connection_error,
    retry_delay,
)
from difytui.backends import AccountBackend, Backend, ServiceBackend
from difytui.deadline import SYSTEM_CLOCK, Clock, checked_deadline, cut_to
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
from difytui.reconnect import DEFAULT_POLICY, ReconnectPolicy
from difytui.streams import TASK_ID_WAIT
from difytui.text import article
from difytui.upload_progress import Progress, ProgressReader
from difytui.urls import url_problem

if TYPE_CHECKING:
    from difytui.config import AppEntry, Workspace
    from difytui.secrets import Secret
    from difytui.streams import AsyncEventStream, EventStream

ResponseMode = Literal["streaming", "blocking"]
C = TypeVar("C", bound="ClientCore[Any, Any]")
T = TypeVar("T")
#: What a driver's connection pools are (httpx.Client or httpx.AsyncClient), and its ``transport``.
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
#: What a run flow returns: the open event stream (or a blocking run's JSON answer), and the app's mode.
RunOutcome = tuple["httpx.Response | dict[str, Any]", str]
#: A file to send: a path, a URL, or a Dify file mapping.
FileRef = str | Path | Mapping[str, Any]


#: Seconds a stop call may take at most: Dify answers at once, and a stop often runs on the way out.
STOP_TIMEOUT = 10.0
#: Modes whose blocking requests Dify refuses (400): sent as asked, so the error stays Dify's own.
#: Every other blocking run streams under the hood and is folded (a task id to stop at any time).
_NO_BLOCKING = frozenset({"agent-chat", "agent"})


def _check_base_url(url: str) -> None:
    """One readable DifyError now, not httpx.InvalidURL from the first request."""
    problem = url_problem(url)
    if problem is None:
        try:
            httpx.URL(url)
        except httpx.InvalidURL as exc:
            problem = str(exc)
    if problem:
        raise DifyError(f"base_url {url!r} is not a valid URL: {problem}")


class ClientCore(Generic[TransportT, HttpT]):
    """Configuration, caches, connection pools and the request flows shared by both clients.

    The constructor is the clients' own: ``Dify`` is a ``ClientCore[httpx.BaseTransport, httpx.Client]``,
    so a type checker sees each client's ``transport`` type, and ``AsyncDify`` the async ones.
    """

    def __init__(
        self,
        base_url: str | None = None,
        apps: Mapping[str, str | Secret | AppEntry] | None = None,
        user: str | None = None,
        *,
        workspace: Workspace | None = None,
        timeout: float | None = None,
        token: str | Secret | None = None,
        deadline: float | None = None,
        clock: Clock | None = None,
        transport: TransportT | None = None,
        reconnect: ReconnectPolicy | None = None,
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
        _check_base_url(self.base_url)
        self.timeout = httpx.Timeout(connect=10.0, read=timeout or workspace.timeout, write=30.0, pool=10.0)
        #: Seconds a whole run (invoke call) may take, or None (unlimited, the default): when it
        #: passes, the run is stopped on the server and DifyDeadlineError is raised.
        self.deadline = checked_deadline(deadline if deadline is not None else workspace.deadline)
        #: What the deadline is read on: real time, unless a test passes a clock it moves itself.
        self.clock: Clock = clock or SYSTEM_CLOCK
        #: How a dropped workflow/chatflow stream is re-attached to its run (``ReconnectPolicy(0)``: never).
        self.reconnect: ReconnectPolicy = reconnect or DEFAULT_POLICY
        self._info: dict[str, dict[str, Any]] = {}
        self._backend: Backend
        if workspace.kind == "account":
            from difytui.secrets import Secret

            secret = Secret(token) if isinstance(token, str) else token
            self._backend = AccountBackend(workspace, self.user, secret)
        else:
            self._backend = ServiceBackend(workspace, self.user)
        self._ssl = httpx.create_ssl_context()  # built once, shared by both pools
        self._transport: TransportT | None = transport
        self._http: HttpT = self._pool(fresh=False)
        self._fresh: HttpT | None = None

    @classmethod
    def from_config(
        cls: type[C], path: str | Path | None = None, workspace: str | None = None, **kwargs: Any
    ) -> C:
        """A client for ``workspace`` (default: the config's default) of the config file or environment."""
        from difytui.config import load_config

        return cls(workspace=load_config(path).workspace(workspace), **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name!r}, base_url={self.base_url!r})"

    @property
    def has_history(self) -> bool:
        """Whether conversations and messages can be listed (not on account workspaces)."""
        return self._backend.has_history

    # -- what each driver provides (Dify: the result; AsyncDify: a coroutine of it) ----------

    def _run_blocking(self, make_flow: Callable[[], Flow[T]]) -> T | Coroutine[Any, Any, T]:
        raise NotImplementedError

    def _run_stream(
        self,
        make_flow: Callable[[], Flow[RunOutcome]],
        app_id: str,
        terminals: frozenset[str] | None = None,
    ) -> EventStream | AsyncEventStream:
        """``terminals``: the events that end the stream, when not the mode's (re-attached runs)."""
        raise NotImplementedError

    def _run_folded(
        self, make_flow: Callable[[], Flow[RunOutcome]], app_id: str
    ) -> dict[str, Any] | Coroutine[Any, Any, dict[str, Any]]:
        """A blocking run: streamed, folded into the blocking body; stopped on the server if given up."""
        raise NotImplementedError

    def _pool(self, *, fresh: bool) -> HttpT:
        """A new connection pool of the driver's kind; ``fresh``: one that keeps no connection alive."""
        raise NotImplementedError

    # -- plumbing shared by both drivers -------------------------------------------------

    def _client_for(self, call: Call) -> HttpT:
        """Reads go through the kept-alive pool (they are retried); runs, uploads and stops on new
        connections (see fresh_limits)."""
        if call.idempotent:
            return self._http
        if self._fresh is None:
            self._fresh = self._pool(fresh=True)
        return self._fresh

    def _deadline_at(self) -> float | None:
        """The time (on ``self.clock``) by which a run starting now must end, if there is a deadline."""
        return None if self.deadline is None else self.clock.now() + self.deadline

    def _timeouts(self, call: Call, deadline: float | None) -> httpx.Timeout | None:
        """The call's own timeouts (a stop's are short), each cut to what is left before the deadline."""
        base = self.timeout if call.timeout is None else httpx.Timeout(call.timeout)
        if deadline is None:
            return base  # always sent: set_read_timeout() applies to the next request
        return cut_to(base, deadline + self._patience(call), self.clock)

    def set_read_timeout(self, seconds: float) -> None:
        """Seconds each read of the requests from now on may wait (the constructor's ``timeout``).

        The CLI's ``invoke --timeout`` uses it for the run alone, after the app's metadata was read."""
        self.timeout = httpx.Timeout(connect=10.0, read=seconds, write=30.0, pool=10.0)

    def _failure(
        self, exc: httpx.HTTPError, url: str, deadline: float | None, waited: float = 0.0
    ) -> DifyError:
        """What a request's httpx error means: the deadline passing (its timeouts are cut to it)."""
        if deadline is not None and self.clock.now() >= deadline - 0.01:
            return self._past_deadline(url, waited)
        return connection_error(exc, url)

    def _past_deadline(self, url: str, waited: float = 0.0) -> DifyDeadlineError:
        """The deadline passed before Dify named the run's task (``waited`` more): nothing to stop."""
        return DifyDeadlineError(self.deadline or 0.0, url, None, False, waited)

    @staticmethod
    def _patience(call: Call) -> float:
        """How long past the deadline ``call`` waits: a run's stream waits for the first event,
        the only one that names the task to stop (streams.py)."""
        return TASK_ID_WAIT if call.stream else 0.0

    def _request(
        self,
        call: Call,
        token: str,
        upload: IO[bytes] | ProgressReader | bytes | None = None,
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
        # A ProgressReader is file-like for httpx: read, seek, tell (and fileno when it can).
        part = (call.upload.name, cast(IO[bytes], upload)) if upload is not None and call.upload else None
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            headers=headers,
            params=params or None,
            json=call.json,
            data=call.form if upload is not None else None,
            files={"file": part} if part else None,
            extensions=extensions or None,
        )

    # -- flows: generators yielding Call/Sleep, receiving results ------------------------

    def _call_flow(self, call: Call) -> Flow[Any]:
        """One request; its result is the JSON answer, or a streamed run's open response.

        On an account workspace a 500 is checked for an expired login."""
        try:
            return (yield call)
        except DifyAPIError as error:
            yield from self._backend.check_token_flow(self, error)
            raise

    def _read_flow(self, call: Call) -> Flow[dict[str, Any]]:
        """A read, retried with backoff on connection errors, 429 (Retry-After) and 502/503/504."""
        call.idempotent = True
        attempt = 0
        while True:
            attempt += 1
            try:
                answer: dict[str, Any] = yield from self._call_flow(call)  # reads never stream
                return answer
            except DifyError as error:
                delay = retry_delay(error, attempt)
                if delay is None:
                    raise
                yield Sleep(delay)

    def _info_flow(self, app_id: str) -> Flow[dict[str, Any]]:
        if app_id not in self._info:
            self._info[app_id] = yield from self._backend.info_flow(self, app_id)
        return self._info[app_id]

    def _interface_flow(self, app_id: str, interface: Interface) -> Flow[dict[str, Any]]:
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

    def _apps_flow(self) -> Flow[list[AppInfo]]:
        app_ids = yield from self._backend.app_ids_flow(self)
        outcomes: list[dict[str, Any] | DifyError] = yield Parallel(
            [self._info_flow(app_id) for app_id in app_ids]
        )
        apps: list[AppInfo] = []
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

    def _resolve_flow(self, ref: str) -> Flow[str]:
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
        exact: Callable[[str], bool] = lambda name: name == ref  # noqa: E731
        folded: Callable[[str], bool] = lambda name: name.casefold() == ref.casefold()  # noqa: E731
        for same in (exact, folded):
            named = [app for app in apps if same(app.name)]
            if len(named) == 1:
                return named[0].id
            if named:
                raise AmbiguousAppError(ref, self.workspace.name, [(app.id, app.name) for app in named])
        raise not_found

    def _upload_flow(self, app_id: str, path: Path, progress: Progress | None = None) -> Flow[dict[str, Any]]:
        """Upload one local file → its ``local_file`` mapping; ``progress(sent, total)`` as it goes."""
        from difytui.forms import file_type_of

        if not path.is_file():
            raise DifyError(f"cannot upload {path}: no such file")
        call = self._backend.upload_call(app_id, path)
        call.progress = progress
        try:
            uploaded: dict[str, Any] = yield from self._call_flow(call)
        except DifyAPIError as error:
            if error.status != 413:
                raise
            # Dify's 413 says nothing (file_too_large, ""), a proxy's is HTML: name the file and its size.
            size = f"{path.stat().st_size / (1024 * 1024):.1f} MB"
            message = f"{path.name} ({size}) is over the server's upload size limit"
            raise DifyAPIError(413, error.code, message, url=error.url) from None
        if not uploaded.get("id"):
            raise DifyProtocolError(f"the upload of {path.name} was answered without a file id")
        return {
            "type": file_type_of(path.name),
            "transfer_method": "local_file",
            "upload_file_id": uploaded["id"],
        }

    def _file_flow(self, app_id: str, item: object) -> Flow[dict[str, Any]]:
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

    def _files_flow(self, app_id: str, items: Iterable[object]) -> Flow[list[dict[str, Any]]]:
        mappings: list[dict[str, Any]] = []
        for item in items:
            mappings.append((yield from self._file_flow(app_id, item)))
        return mappings

    def _inputs_flow(self, app_id: str, inputs: Mapping[str, Any]) -> Flow[dict[str, Any]]:
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
        files: Sequence[FileRef] | None,
        response_mode: ResponseMode,
    ) -> Flow[RunOutcome]:
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
        outcome: httpx.Response | dict[str, Any] = yield from self._call_flow(call)
        if isinstance(outcome, dict) and not outcome:
            raise DifyProtocolError(f"{self.base_url + call.path} answered the run with an empty JSON object")
        return outcome, mode

    def _stop_flow(self, app_id: str, task_id: str) -> Flow[dict[str, Any]]:
        info = yield from self._info_flow(app_id)
        interface = INTERFACE_BY_MODE.get(str(info.get("mode")), "chat")
        call = self._backend.stop_call(interface, app_id, task_id)
        call.timeout = min(STOP_TIMEOUT, self.timeout.read or STOP_TIMEOUT)
        answer: dict[str, Any] = yield from self._call_flow(call)
        return answer

    def _reattach_flow(self, app_id: str, run_id: str) -> Flow[httpx.Response]:
        """The events stream of run ``run_id``, replaying its state first: a dropped stream goes on there."""
        path = self._backend.events_path(app_id, run_id)
        call = Call("GET", path, app_id, params={"include_state_snapshot": "true"}, stream=True)
        response = yield from self._call_flow(call)
        if not isinstance(response, httpx.Response):
            raise DifyProtocolError(f"{self.base_url + call.path} answered without an event stream")
        return response

    def _folder(self, mode: str, response: httpx.Response) -> Folder:
        # The Service API's fold gives exactly its blocking body's keys; the account API has none to match.
        return Folder(mode, url=str(response.request.url), exact=not self._backend.always_streams)

    def _parameters_flow(self, app_id: str) -> Flow[dict[str, Any]]:
        return (yield from self._backend.parameters_flow(self, app_id))

    def _history_flow(self, app_id: str, what: str, params: dict[str, Any]) -> Flow[dict[str, Any]]:
        path = self._backend.history_path(what)
        yield from self._backend.known_flow(self, app_id)
        return (yield from self._read_flow(Call("GET", path, app_id, params=params)))


def given_up(exc: BaseException, task_id: str | None, stopped: bool) -> BaseException | None:
    """After a blocking run was given up: the exception to raise instead of ``exc``, if any."""
    if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, RunInterrupted):
        return RunInterrupted(task_id, stopped)
    if stopped and isinstance(exc, DifyError):
        exc.stopped_task = task_id
    return None
