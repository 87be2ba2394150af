"""The history calls as sans-io flows: conversations, messages, feedback, suggested questions and
workflow runs, each one request with Dify's not-found answers raised as typed errors.

:mod:`difytui.history_api` hands them to a client's driver; they never touch the network themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from difytui._http import Call
from difytui.errors import ConversationNotFoundError, DifyAPIError, MessageNotFoundError
from difytui.history import (
    JSON,
    Conversation,
    Feedback,
    Message,
    Page,
    Rating,
    Suggestions,
    WorkflowLogPage,
    WorkflowRunDetail,
    WorkflowRunSummary,
)

if TYPE_CHECKING:
    from difytui._http import Flow
    from difytui.flows import ClientCore

T = TypeVar("T")


def _path(core: ClientCore[Any, Any], what: str, tail: str = "") -> str:
    """The Service API path; an account workspace raises its "no history" error here."""
    return core._backend.history_path(what) + tail


def _read(core: ClientCore[Any, Any], app_id: str, path: str, params: dict[str, Any]) -> Flow[JSON]:
    yield from core._backend.known_flow(core, app_id)
    return (yield from core._read_flow(Call("GET", path, app_id, params=params)))


def _write(
    core: ClientCore[Any, Any], app_id: str, method: str, path: str, body: dict[str, Any]
) -> Flow[JSON]:
    yield from core._backend.known_flow(core, app_id)
    answer: JSON = yield from core._call_flow(Call(method, path, app_id, json={**body, "user": core.user}))
    return answer


def _about_conversation(flow: Flow[T], conversation_id: str) -> Flow[T]:
    """``flow``, with Dify's "Conversation Not Exists." 404 raised as ConversationNotFoundError."""
    return _typed_404(
        flow, "Conversation Not Exists", lambda e: ConversationNotFoundError(conversation_id, e)
    )


def _about_message(flow: Flow[T], message_id: str) -> Flow[T]:
    return _typed_404(flow, "Message Not Exists", lambda e: MessageNotFoundError(message_id, e))


def _typed_404(flow: Flow[T], prefix: str, typed: Callable[[DifyAPIError], DifyAPIError]) -> Flow[T]:
    try:
        return (yield from flow)
    except DifyAPIError as error:
        if error.status == 404 and error.message.startswith(prefix):
            raise typed(error) from None
        raise


def _items(body: JSON) -> list[JSON]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def conversations_flow(core: ClientCore[Any, Any], app_id: str, query: dict[str, Any]) -> Flow[Page]:
    body = yield from _read(core, app_id, _path(core, "conversations"), query)
    return Page([Conversation.from_api(c) for c in _items(body)], body.get("has_more") is True)


def messages_flow(
    core: ClientCore[Any, Any], app_id: str, conversation_id: str, query: dict[str, Any]
) -> Flow[Page]:
    params = {**query, "conversation_id": conversation_id}
    body = yield from _about_conversation(
        _read(core, app_id, _path(core, "messages"), params), conversation_id
    )
    return Page([Message.from_api(m) for m in _items(body)], body.get("has_more") is True)


def rename_flow(
    core: ClientCore[Any, Any], app_id: str, conversation_id: str, name: str | None, auto_generate: bool
) -> Flow[Conversation]:
    body: dict[str, Any] = {"auto_generate": True} if auto_generate else {"name": name}
    path = _path(core, "conversations", f"/{conversation_id}/name")
    answer = yield from _about_conversation(_write(core, app_id, "POST", path, body), conversation_id)
    return Conversation.from_api(answer)


def delete_flow(core: ClientCore[Any, Any], app_id: str, conversation_id: str) -> Flow[None]:
    path = _path(core, "conversations", f"/{conversation_id}")
    yield from _about_conversation(_write(core, app_id, "DELETE", path, {}), conversation_id)


def feedback_flow(
    core: ClientCore[Any, Any], app_id: str, message_id: str, rating: Rating | None, content: str | None
) -> Flow[None]:
    body: dict[str, Any] = {"rating": rating}
    if content is not None:
        body["content"] = content
    path = _path(core, "messages", f"/{message_id}/feedbacks")
    yield from _about_message(_write(core, app_id, "POST", path, body), message_id)


def suggested_flow(core: ClientCore[Any, Any], app_id: str, message_id: str) -> Flow[Suggestions]:
    path = _path(core, "messages", f"/{message_id}/suggested")
    try:
        body = yield from _about_message(_read(core, app_id, path, {}), message_id)
    except MessageNotFoundError:
        raise
    except DifyAPIError as error:
        # quiet outcomes, not failures: the feature is off (400 bad_request), or on with no working
        # model (Dify 1.14.2 answers a bare 500, capture B89)
        if error.status == 400 and "Suggested Questions Is Disabled" in error.message:
            return Suggestions([], "disabled")
        if error.status == 500:
            return Suggestions([], "no_model")
        raise
    data = body.get("data")
    return Suggestions([q for q in data if isinstance(q, str)] if isinstance(data, list) else [])


def app_feedbacks_flow(
    core: ClientCore[Any, Any], app_id: str, page: int, limit: int
) -> Flow[list[Feedback]]:
    body = yield from _read(core, app_id, _path(core, "app/feedbacks"), {"page": page, "limit": limit})
    return [Feedback.from_api(f) for f in _items(body)]


def workflow_logs_flow(
    core: ClientCore[Any, Any], app_id: str, params: dict[str, Any]
) -> Flow[WorkflowLogPage]:
    body = yield from _read(core, app_id, _path(core, "workflows/logs"), params)
    total = body.get("total")
    return WorkflowLogPage(
        [WorkflowRunSummary.from_api(r) for r in _items(body)],
        page=int(params["page"]),
        total=total if isinstance(total, int) else 0,
        has_more=body.get("has_more") is True,
    )


def workflow_run_flow(core: ClientCore[Any, Any], app_id: str, run_id: str) -> Flow[WorkflowRunDetail]:
    body = yield from _read(core, app_id, _path(core, "workflows/run", f"/{run_id}"), {})
    return WorkflowRunDetail.from_api(body)
