"""``client.app``: the plugin SDK's ``session.app`` namespace (chat, workflow and completion parts).

One implementation serves both clients: each method hands a flow to the client's driver, so on
``Dify`` it returns the result and on ``AsyncDify`` a coroutine of it. The overloads, typed on the
client (``AppAPI[Dify]`` or ``AppAPI[AsyncDify]``), tell a type checker which.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from difytui.history_api import ConversationsAPI, MessagesAPI, WorkflowRunsAPI
from difytui.human_input_api import HumanInputAPI, events_flow, events_terminals
from difytui.models import Interface

if TYPE_CHECKING:
    from difytui._http import Flow
    from difytui.async_client import AsyncDify
    from difytui.flows import ClientCore, FileRef, ResponseMode, RunOutcome
    from difytui.streams import AsyncEventStream, EventStream
    from difytui.sync_client import Dify
    from difytui.upload_progress import Progress

C = TypeVar("C", bound="ClientCore[Any, Any]")
T = TypeVar("T")
JSON = dict[str, Any]
#: What ``AsyncDify``'s calls return: a coroutine of the result.
Async = Coroutine[Any, Any, T]


class AppAPI(Generic[C]):
    """``client.app``: the plugin SDK's ``session.app`` namespace."""

    def __init__(self, client: C) -> None:
        self._client = client
        self.chat: ChatAPI[C] = ChatAPI(client)
        self.workflow: WorkflowAPI[C] = WorkflowAPI(client)
        self.completion: CompletionAPI[C] = CompletionAPI(client)
        # history (difytui.history_api): callable as the methods app.conversations / app.messages were
        self.conversations: ConversationsAPI[C] = ConversationsAPI(client)
        self.messages: MessagesAPI[C] = MessagesAPI(client)
        self.workflow_runs: WorkflowRunsAPI[C] = WorkflowRunsAPI(client)
        #: Human Input forms of paused runs (difytui.human_input_api)
        self.human_input: HumanInputAPI[C] = HumanInputAPI(client)

    @overload
    def info(self: AppAPI[Dify], app_id: str) -> JSON: ...
    @overload
    def info(self: AppAPI[AsyncDify], app_id: str) -> Async[JSON]: ...
    def info(self, app_id: str) -> JSON | Async[JSON]:
        """The app's ``/info`` (name, description, tags, mode, author_name); cached per client."""
        return self._client._run_blocking(lambda: self._client._info_flow(app_id))

    @overload
    def resolve(self: AppAPI[Dify], app: str) -> str: ...
    @overload
    def resolve(self: AppAPI[AsyncDify], app: str) -> Async[str]: ...
    def resolve(self, app: str) -> str | Async[str]:
        """The id of ``app``, given by id or by a name only one app of the workspace has.

        Raises ``AppNotFoundError``, or its ``AmbiguousAppError`` that names every candidate."""
        return self._client._run_blocking(lambda: self._client._resolve_flow(app))

    @overload
    def parameters(self: AppAPI[Dify], app_id: str) -> JSON: ...
    @overload
    def parameters(self: AppAPI[AsyncDify], app_id: str) -> Async[JSON]: ...
    def parameters(self, app_id: str) -> JSON | Async[JSON]:
        """The app's ``/parameters``: opening statement, suggested questions, ``user_input_form``…"""
        return self._client._run_blocking(lambda: self._client._parameters_flow(app_id))

    @overload
    def upload(self: AppAPI[Dify], app_id: str, path: Path, progress: Progress | None = None) -> JSON: ...
    @overload
    def upload(
        self: AppAPI[AsyncDify], app_id: str, path: Path, progress: Progress | None = None
    ) -> Async[JSON]: ...
    def upload(self, app_id: str, path: Path, progress: Progress | None = None) -> JSON | Async[JSON]:
        """Upload a local file for ``app_id``: its file mapping (``local_file``, ``upload_file_id``)
        to use in ``inputs`` or ``files``. ``progress(sent, total)`` is told the bytes sent as they go
        (the invoke methods upload ``Path`` values themselves, without progress)."""
        return self._client._run_blocking(lambda: self._client._upload_flow(app_id, Path(path), progress))

    @overload
    def stop(self: AppAPI[Dify], app_id: str, task_id: str) -> JSON: ...
    @overload
    def stop(self: AppAPI[AsyncDify], app_id: str, task_id: str) -> Async[JSON]: ...
    def stop(self, app_id: str, task_id: str) -> JSON | Async[JSON]:
        """Ask Dify to stop a running task (``task_id`` from the stream). Dify always answers success."""
        return self._client._run_blocking(lambda: self._client._stop_flow(app_id, task_id))

    @overload
    def events(
        self: AppAPI[Dify],
        app_id: str,
        workflow_run_id: str,
        include_state_snapshot: bool = False,
        continue_on_pause: bool = False,
    ) -> EventStream: ...
    @overload
    def events(
        self: AppAPI[AsyncDify],
        app_id: str,
        workflow_run_id: str,
        include_state_snapshot: bool = False,
        continue_on_pause: bool = False,
    ) -> AsyncEventStream: ...
    def events(
        self,
        app_id: str,
        workflow_run_id: str,
        include_state_snapshot: bool = False,
        continue_on_pause: bool = False,
    ) -> EventStream | AsyncEventStream:
        """Re-attach to a workflow or chatflow run (``GET /workflow/:run_id/events``): an event
        stream like ``invoke``'s. A finished run sends one ``workflow_finished``. Without
        ``include_state_snapshot`` only events published from now on come; with it the run so far
        is replayed first (node events without inputs/outputs; a chat's text as ``message_replace``).
        The stream ends at ``workflow_finished``, or at ``workflow_paused`` unless
        ``continue_on_pause``. See :mod:`difytui.human_input_api` for resuming a paused run."""

        def flow() -> Flow[RunOutcome]:
            client, snapshot = self._client, include_state_snapshot
            return events_flow(client, app_id, workflow_run_id, snapshot, continue_on_pause)

        return self._client._run_stream(flow, app_id, terminals=events_terminals(continue_on_pause))


class _InterfaceAPI(Generic[C]):
    interface: Interface

    def __init__(self, client: C) -> None:
        self._client = client

    def _invoke(
        self,
        app_id: str,
        body: dict[str, Any],
        files: Sequence[FileRef] | None,
        response_mode: ResponseMode,
    ) -> EventStream | AsyncEventStream | JSON | Async[JSON]:
        def flow() -> Flow[RunOutcome]:
            return self._client._run_flow(self.interface, app_id, body, files, response_mode)

        if response_mode == "streaming":
            return self._client._run_stream(flow, app_id)
        return self._client._run_folded(flow, app_id)


# The overloads of invoke: streaming (the default) gives the client's event stream; blocking,
# given by keyword, the result; a response mode held in a variable, either.


class ChatAPI(_InterfaceAPI[C]):
    """Chatbot, agent and chatflow apps."""

    interface: Interface = "chat"

    @overload
    def invoke(
        self: ChatAPI[Dify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: Literal["streaming"] = "streaming",
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> EventStream: ...
    @overload
    def invoke(
        self: ChatAPI[Dify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        response_mode: Literal["blocking"],
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> JSON: ...
    @overload
    def invoke(
        self: ChatAPI[Dify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> EventStream | JSON: ...
    @overload
    def invoke(
        self: ChatAPI[AsyncDify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: Literal["streaming"] = "streaming",
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> AsyncEventStream: ...
    @overload
    def invoke(
        self: ChatAPI[AsyncDify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        response_mode: Literal["blocking"],
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> Async[JSON]: ...
    @overload
    def invoke(
        self: ChatAPI[AsyncDify],
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> AsyncEventStream | Async[JSON]: ...
    def invoke(
        self,
        app_id: str,
        query: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        conversation_id: str | None = None,
        files: Sequence[FileRef] | None = None,
    ) -> EventStream | AsyncEventStream | JSON | Async[JSON]:
        body: dict[str, Any] = {"query": query, "inputs": dict(inputs or {})}
        if conversation_id:
            body["conversation_id"] = conversation_id
        return self._invoke(app_id, body, files, response_mode)


class WorkflowAPI(_InterfaceAPI[C]):
    interface: Interface = "workflow"

    @overload
    def invoke(
        self: WorkflowAPI[Dify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: Literal["streaming"] = "streaming",
        files: Sequence[FileRef] | None = None,
    ) -> EventStream: ...
    @overload
    def invoke(
        self: WorkflowAPI[Dify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        response_mode: Literal["blocking"],
        files: Sequence[FileRef] | None = None,
    ) -> JSON: ...
    @overload
    def invoke(
        self: WorkflowAPI[Dify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        files: Sequence[FileRef] | None = None,
    ) -> EventStream | JSON: ...
    @overload
    def invoke(
        self: WorkflowAPI[AsyncDify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: Literal["streaming"] = "streaming",
        files: Sequence[FileRef] | None = None,
    ) -> AsyncEventStream: ...
    @overload
    def invoke(
        self: WorkflowAPI[AsyncDify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        response_mode: Literal["blocking"],
        files: Sequence[FileRef] | None = None,
    ) -> Async[JSON]: ...
    @overload
    def invoke(
        self: WorkflowAPI[AsyncDify],
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        files: Sequence[FileRef] | None = None,
    ) -> AsyncEventStream | Async[JSON]: ...
    def invoke(
        self,
        app_id: str,
        inputs: Mapping[str, Any] | None = None,
        response_mode: ResponseMode = "streaming",
        files: Sequence[FileRef] | None = None,
    ) -> EventStream | AsyncEventStream | JSON | Async[JSON]:
        return self._invoke(app_id, {"inputs": dict(inputs or {})}, files, response_mode)


class CompletionAPI(WorkflowAPI[C]):
    interface: Interface = "completion"
