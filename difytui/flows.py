"""The sans-io core shared by ``Dify`` and ``AsyncDify``: the request *flows*, on
:class:`~difytui.client_base.ClientBase` (configuration, caches, connection pools, plumbing).

A flow is a generator that yields ``Call``/``Sleep``/``Parallel`` steps and receives their results
(or has errors thrown into it); the drivers (:mod:`difytui.sync_client`, :mod:`difytui.async_client`)
perform the steps. Where the apps live is the backend's business (:mod:`difytui.backends`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from difytui._http import Call, Flow, Parallel, Sleep, retry_delay
from difytui.client_base import ClientBase, HttpT, RunOutcome, TransportT
from difytui.errors import (
    AmbiguousAppError,
    AppNotFoundError,
    DifyAPIError,
    DifyConnectionError,
    DifyError,
    DifyProtocolError,
    RunInterrupted,
)
from difytui.fold import Folder
from difytui.models import INTERFACE_BY_MODE, MODE_LABELS, AppInfo, Interface
from difytui.text import article
from difytui.upload_progress import Progress

__all__ = ["STOP_TIMEOUT", "ClientCore", "FileRef", "ResponseMode", "RunOutcome", "given_up"]

ResponseMode = Literal["streaming", "blocking"]
#: A file to send: a path, a URL, or a Dify file mapping.
FileRef = str | Path | Mapping[str, Any]


#: Seconds a stop call may take at most: Dify answers at once, and a stop often runs on the way out.
STOP_TIMEOUT = 10.0
#: Modes whose blocking requests Dify refuses (400): sent as asked, so the error stays Dify's own.
#: Every other blocking run streams under the hood and is folded (a task id to stop at any time).
_NO_BLOCKING = frozenset({"agent-chat", "agent"})


class ClientCore(ClientBase[TransportT, HttpT]):
    """The request flows shared by both clients, on :class:`ClientBase`'s configuration and plumbing."""

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
