"""The public facade: a Dify 1.14.2 Service API simulator served from a daemon thread."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from .api import Api
from .apps import ALL_APPS, DEMO_APPS, api_key_for
from .console import PREFIX as CONSOLE_PREFIX
from .console import Console
from .device_flow import DeviceFlow
from .faults import STREAM_FAULTS
from .openapi import PREFIX as OPENAPI_PREFIX
from .openapi import OpenApi
from .runs import Run
from .server import Request, Server
from .state import State
from .workspace import CONSOLE_ONLY_APPS, Directory

FAULT_KINDS = ("status", "delay", *STREAM_FAULTS)


class Simulator:
    """A deterministic, stdlib-only Dify 1.14.2 for the demo workspace, on one loopback port.

    ``/v1``: the Service API (app keys, ``api_keys``). ``/console/api``: the console API (login
    with ``account_email`` / ``account_password``, cookies + CSRF; :mod:`.console`). ``/openapi/v1``:
    the account API (device flow, ``dfoa_`` tokens; :mod:`.openapi`), unless ``openapi=False``.
    ``token_delay``, ``run_latency``, ``ping_interval``, ``error_silence`` and the public knobs set
    in ``__init__`` (``max_page_size``, ``device_interval``, ``openapi_rate_limit``, ...) may be
    changed while running.

    ``run_latency``: seconds every run waits before its first event (a model's time to first token,
    once per run, not per token), or before a blocking run's answer. Runs wait concurrently, and
    what they send, in which order, is unchanged; a stop still reaches a streaming run meanwhile.
    """

    def __init__(
        self,
        token_delay: float = 0.0,
        run_latency: float = 0.0,
        ping_interval: float = 10.0,
        error_silence: float = 300.0,
        chunk_seed: int | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        state_path: str | Path | None = None,
        openapi: bool = True,
        sock: socket.socket | None = None,
    ) -> None:
        self.token_delay = token_delay
        self.run_latency = run_latency
        self.ping_interval = ping_interval
        self.error_silence = error_silence
        self.chunk_seed = chunk_seed
        self.host = host
        self.port = port
        #: a listening socket to serve on instead of binding host:port (the demo binds it early)
        self._sock = sock
        #: app id → API key, hidden helper apps (``bench-stream``) included.
        self.api_keys: dict[str, str] = {app_id: api_key_for(app_id) for app_id in ALL_APPS}
        #: every request received, in order (see :class:`~difytui.sim.server.Request`).
        self.requests: list[Request] = []
        self.state = State()
        #: where conversations are kept between runs (the demo's), or None for a fresh workspace.
        self.state_path = Path(state_path) if state_path else None
        self._load_state()
        self._api = Api(self.state, self.api_keys, {**ALL_APPS, **CONSOLE_ONLY_APPS})
        # --- the account's side: console (/console/api) and, unless off, account API (/openapi/v1)
        self.directory = Directory(self.api_keys, self._api.add_key)
        self._api.api_enabled = self.directory.api_enabled
        #: (app uuid, token) of every key created through the console, in order
        self.created_keys: list[tuple[str, str]] = []
        #: page size cap for the console and account app lists (set 2 to force pagination)
        self.max_page_size = 100
        self._console = Console(self, self.directory)
        #: False: every /openapi/v1 path is an HTML 404 (a server without OPENAPI_ENABLED)
        self.openapi = openapi
        #: client ids the device flow accepts (OPENAPI_KNOWN_CLIENT_IDS)
        self.known_client_ids: set[str] = {"difyctl"}
        #: seconds a device-flow poll must wait after the previous one (else slow_down)
        self.device_interval: float = 5
        #: requests per account token before a 429 (None: no limit); Retry-After value in seconds
        self.openapi_rate_limit: int | None = None
        self.retry_after = 1
        self._devices = DeviceFlow(self, self.directory)
        self._openapi = OpenApi(self, self.directory, self._api, self._devices, self._console)
        self._faults: list[dict] = []
        self._faults_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="difytui-sim", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        loop, thread, stopping = self._loop, self._thread, self._stopping
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            if stopping is not None:  # set by the server's loop before start() returns
                loop.call_soon_threadsafe(stopping.set)
        thread.join(5)
        self._thread = None
        self._save_state()

    def _load_state(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        try:
            self.state.restore(json.loads(self.state_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            self.state = State()  # a damaged demo state is not worth an error: start afresh

    def _save_state(self) -> None:
        if self.state_path is None:
            return
        with contextlib.suppress(OSError):
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state.snapshot()), encoding="utf-8")
            os.replace(temporary, self.state_path)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start() when it happens during startup
            self._error = exc
        finally:
            self._ready.set()
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self._server = Server(self, self._api, self._dispatch)
        if self._sock is not None:
            server = await asyncio.start_server(self._server.connection, sock=self._sock, limit=1024 * 1024)
            self.host, self.port = self._sock.getsockname()[:2]
        else:
            server = await asyncio.start_server(
                self._server.connection, self.host, self.port, limit=1024 * 1024
            )
            self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()
        # Open streams (silent error streams included) must not delay shutdown: cancel them.
        tasks = list(self._server.connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1)

    def _dispatch(self, req: Request):
        """Route by prefix: console API, account API, else the Service API (and its HTML 404s)."""
        if req.path == CONSOLE_PREFIX or req.path.startswith(CONSOLE_PREFIX + "/"):
            return self._console.dispatch(req)
        if req.path == OPENAPI_PREFIX or req.path.startswith(OPENAPI_PREFIX + "/"):
            return self._openapi.dispatch(req)
        return self._api.dispatch(req)

    # --- addresses and keys ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def account_email(self) -> str:
        return self.directory.account["email"]

    @account_email.setter
    def account_email(self, value: str) -> None:
        self.directory.account["email"] = value

    @property
    def account_password(self) -> str:
        return self.directory.password

    @account_password.setter
    def account_password(self, value: str) -> None:
        self.directory.password = value

    @property
    def openapi_url(self) -> str:
        return self.console_url + OPENAPI_PREFIX

    @property
    def console_requests(self) -> list[Request]:
        """The requests received under /console/api (``csrf_ok`` tells whether CSRF matched)."""
        return [r for r in self.requests if r.path.startswith(CONSOLE_PREFIX + "/")]

    def apps_config(self) -> dict[str, str]:
        """app id → key for the visible demo apps, ready for ``Dify(apps=...)``."""
        return {app_id: self.api_keys[app_id] for app_id in DEMO_APPS}

    def config_toml(self, workspace: str = "demo", user: str | None = None) -> str:
        """A config file's text for a workspace of every app on this simulator."""
        lines = [f"[workspaces.{workspace}]", f'base_url = "{self.base_url}"']
        lines += [f'user = "{user}"', ""] if user else [""]
        for app_id, key in self.apps_config().items():
            lines += [f"[workspaces.{workspace}.apps.{app_id}]", f'api_key = "{key}"', ""]
        return "\n".join(lines)

    def enable_suggested(self, app_id: str, questions: list[str] | None) -> None:
        """Switch on the chat app's suggested questions after an answer (``/parameters`` shows it).

        ``questions``: what ``GET /messages/:id/suggested`` answers; None: no model works (a 500, B89).
        Only this simulator's copy of the app changes."""
        app = copy.deepcopy(self._api.apps[app_id])
        app["parameters"]["suggested_questions_after_answer"] = {"enabled": True}
        app["suggested_by_model"] = questions
        self._api.apps[app_id] = app

    # --- observation ----------------------------------------------------------------------------

    @property
    def running_tasks(self) -> dict[str, Run]:
        """task_id → run for streams currently in flight."""
        return dict(self._api.running)

    @property
    def held_tasks(self) -> list[str]:
        """task ids a ``hold`` fault holds right now (it sent what it was to send first)."""
        return list(self._api.held)

    def release_holds(self, events: int = 1) -> None:
        """Every run held now sends ``events`` more data events, then is held again (a test lets a
        run go on one step at a time, at a point of its choosing)."""
        loop = self._loop
        if loop is None:
            return

        def release() -> None:
            for held in list(self._api.held.values()):
                if not held.done():
                    held.set_result(events)

        loop.call_soon_threadsafe(release)

    @property
    def stopped_tasks(self) -> list[str]:
        """task ids whose stop request reached a running task (the stream then ended)."""
        return list(self._api.stopped_tasks)

    # --- account API hooks (the user's browser, the clock) -----------------------------------------

    def approve_device(self, user_code: str | None = None) -> str:
        """Approve a pending device login (None: the newest); returns its user code."""
        return self._resolve_device(user_code, approve=True)

    def approve_device_when_issued(self, timeout: float = 60.0) -> str:
        """Wait until a client has asked for a device code, then approve the newest one (a browser
        user acting once the code is shown, without guessing how long the client takes)."""
        if not self._devices.issued.wait(timeout):
            raise LookupError("no device login was started")
        return self.approve_device()

    def deny_device(self, user_code: str | None = None) -> str:
        return self._resolve_device(user_code, approve=False)

    def _resolve_device(self, user_code: str | None, approve: bool) -> str:
        code = self._devices.resolve(user_code, approve)
        if code is None:
            raise LookupError(f"no pending device login {user_code or ''}".strip())
        return code.user_code

    def expire_devices(self) -> None:
        """Every device code issued so far expires now."""
        self._devices.expire_all()

    def expire_tokens(self) -> None:
        """Every account token minted so far has expired (its next use is a 500)."""
        self._devices.expire_tokens()

    def reset_rate_limits(self) -> None:
        self._openapi.request_counts.clear()

    @property
    def account_tokens(self) -> list[str]:
        """Live ``dfoa_`` tokens, oldest first."""
        return [t for t in list(self._devices.tokens) if self._devices.token(t) is not None]

    # --- faults ---------------------------------------------------------------------------------

    def add_fault(self, path: str, kind: str, **kw: Any) -> None:
        """One-shot fault for the next request whose path starts with ``path``.

        kinds: ``status`` (status, body, content_type, headers, dify_headers), ``delay`` (seconds:
        then answer as usual), ``cut`` /
        ``malformed`` / ``eof`` / ``error`` (after = number of data events sent first; streams only;
        ``error`` sends a generation error event with code, message, status, then ends the stream;
        ``pause`` sends human_input_required + workflow_paused, then ends it, as Dify's relay does;
        ``hold`` stops sending until the run is stopped, or ``seconds`` (30) pass, then goes on: a stop
        sent after the ``after``-th event then lands at that point, however loaded the machine
        (``held_tasks`` lists the runs held; ``release_holds`` lets a few events through);
        ``drop`` resets the connection (``how="eof"``: ends it early) while the run goes on, for
        re-attaching with /workflow/:run_id/events: ``gap`` events are lost first, see :mod:`.drops`).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._faults_lock:
            self._faults.append({"path": path, "kind": kind, **kw})

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def _peek_fault(self, path: str) -> dict | None:
        with self._faults_lock:
            return next((f for f in self._faults if path.startswith(f["path"])), None)

    def _consume_fault(self, fault: dict) -> None:
        with self._faults_lock, contextlib.suppress(ValueError):
            self._faults.remove(fault)
