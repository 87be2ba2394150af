"""``client.app``: the plugin SDK's ``session.app`` namespace (chat, workflow and completion parts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from difytui.models import Interface

if TYPE_CHECKING:
    from difytui.flows import ClientCore, Flow, ResponseMode


class AppAPI:
    """``client.app``: the plugin SDK's ``session.app`` namespace."""

    def __init__(self, client: ClientCore) -> None:
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

    def __init__(self, client: ClientCore) -> None:
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
