"""What ``Dify`` and ``AsyncDify`` are built on below their flows: the one constructor (configuration,
backend, caches, connection pools), what each driver must provide, and the request plumbing
(timeouts cut to the run's deadline and its patience, which pool a call uses, the httpx request)
both drivers share.

:class:`difytui.flows.ClientCore` adds the request flows.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx

from difytui import __version__
from difytui._http import Call, Flow, connection_error
from difytui.backends import AccountBackend, Backend, ServiceBackend
from difytui.deadline import SYSTEM_CLOCK, Clock, checked_deadline, cut_to
from difytui.errors import DifyDeadlineError, DifyError
from difytui.reconnect import DEFAULT_POLICY, ReconnectPolicy
from difytui.streams import TASK_ID_WAIT
from difytui.upload_progress import ProgressReader
from difytui.urls import url_problem

if TYPE_CHECKING:
    from difytui.config import AppEntry, Workspace
    from difytui.secrets import Secret
    from difytui.streams import AsyncEventStream, EventStream

C = TypeVar("C", bound="ClientBase[Any, Any]")
T = TypeVar("T")
#: What a driver's connection pools are (httpx.Client or httpx.AsyncClient), and its ``transport``.
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
#: What a run flow returns: the open event stream (or a blocking run's JSON answer), and the app's mode.
RunOutcome = tuple["httpx.Response | dict[str, Any]", str]


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


class ClientBase(Generic[TransportT, HttpT]):
    """Configuration, caches, connection pools and the request plumbing shared by both clients.

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
