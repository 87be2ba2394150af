"""``client.app.conversations``, ``client.app.messages`` and ``client.app.workflow_runs``: history.

As in :mod:`difytui.app_api`, each call hands a sans-io flow (:mod:`difytui.history_flows`) to the
client's driver: ``Dify`` returns the result, ``AsyncDify`` a coroutine of it (the overloads tell a
type checker which). The ``all`` methods walk every page with the pagers of :mod:`difytui.history`:
an iterator on ``Dify``, an async iterator on ``AsyncDify``. The namespaces stay callable as the
methods they replace (``app.conversations(app_id)`` → one raw page).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from difytui.errors import DifyAPIError
from difytui.history import (
    JSON,
    Conversation,
    ConversationPager,
    Feedback,
    Message,
    MessagePager,
    Page,
    Rating,
    SortBy,
    Suggestions,
    WorkflowLogPage,
    WorkflowRunDetail,
)
from difytui.history_flows import (
    app_feedbacks_flow,
    conversations_flow,
    delete_flow,
    feedback_flow,
    messages_flow,
    rename_flow,
    suggested_flow,
    workflow_logs_flow,
    workflow_run_flow,
)

if TYPE_CHECKING:
    from difytui._http import Flow
    from difytui.async_client import AsyncDify
    from difytui.flows import ClientCore
    from difytui.sync_client import Dify

C = TypeVar("C", bound="ClientCore[Any, Any]")
T = TypeVar("T")
Async = Coroutine[Any, Any, T]
LogStatus = Literal["succeeded", "failed", "stopped"]


# -- walking every page: the pager decides, the driver fetches -----------------------------------

Pager = ConversationPager | MessagePager


def _walk(client: ClientCore[Any, Any], pager: Pager, fetch: Callable[[dict[str, Any]], Flow[Page]]) -> Any:
    from difytui.async_client import AsyncDify

    if isinstance(client, AsyncDify):
        return _walk_async(client, pager, fetch)
    return _walk_sync(client, pager, fetch)


def _walk_sync(
    client: ClientCore[Any, Any], pager: Pager, fetch: Callable[[dict[str, Any]], Flow[Page]]
) -> Iterator[Any]:
    while (query := pager.next_query()) is not None:
        page = client._run_blocking(lambda q=query: fetch(q))  # type: ignore[misc]
        assert isinstance(page, Page)
        yield from pager.feed(page)


async def _walk_async(
    client: ClientCore[Any, Any], pager: Pager, fetch: Callable[[dict[str, Any]], Flow[Page]]
) -> AsyncIterator[Any]:
    while (query := pager.next_query()) is not None:
        pending = client._run_blocking(lambda q=query: fetch(q))  # type: ignore[misc]
        assert not isinstance(pending, Page)
        for item in pager.feed(await pending):
            yield item


# -- namespaces -----------------------------------------------------------------------------------


class _Namespace(Generic[C]):
    def __init__(self, client: C) -> None:
        self._client = client

    def _run(self, make_flow: Callable[[], Flow[T]]) -> T | Async[T]:
        return self._client._run_blocking(make_flow)


class ConversationsAPI(_Namespace[C]):
    """``client.app.conversations``: a chat app's conversations of this client's user."""

    @overload
    def __call__(self: ConversationsAPI[Dify], app_id: str, limit: int = 20) -> JSON: ...
    @overload
    def __call__(self: ConversationsAPI[AsyncDify], app_id: str, limit: int = 20) -> Async[JSON]: ...
    def __call__(self, app_id: str, limit: int = 20) -> JSON | Async[JSON]:
        """The newest conversations, Dify's raw page (``{"limit", "has_more", "data"}``)."""
        return self._run(lambda: self._client._history_flow(app_id, "conversations", {"limit": limit}))

    @overload
    def page(
        self: ConversationsAPI[Dify],
        app_id: str,
        limit: int = 20,
        last_id: str | None = None,
        sort_by: SortBy = "-updated_at",
    ) -> Page: ...
    @overload
    def page(
        self: ConversationsAPI[AsyncDify],
        app_id: str,
        limit: int = 20,
        last_id: str | None = None,
        sort_by: SortBy = "-updated_at",
    ) -> Async[Page]: ...
    def page(
        self, app_id: str, limit: int = 20, last_id: str | None = None, sort_by: SortBy = "-updated_at"
    ) -> Page | Async[Page]:
        """One page of :class:`Conversation`, newest first by default (next page: ``last_id`` = the
        last item's id)."""
        query: dict[str, Any] = {"limit": limit, "sort_by": sort_by}
        if last_id:
            query["last_id"] = last_id
        return self._run(lambda: conversations_flow(self._client, app_id, query))

    @overload
    def all(
        self: ConversationsAPI[Dify], app_id: str, page_size: int = 100, sort_by: SortBy = "-updated_at"
    ) -> Iterator[Conversation]: ...
    @overload
    def all(
        self: ConversationsAPI[AsyncDify], app_id: str, page_size: int = 100, sort_by: SortBy = "-updated_at"
    ) -> AsyncIterator[Conversation]: ...
    def all(
        self, app_id: str, page_size: int = 100, sort_by: SortBy = "-updated_at"
    ) -> Iterator[Conversation] | AsyncIterator[Conversation]:
        """Every conversation once, fetching pages as the iteration goes."""
        pager = ConversationPager(page_size, sort_by)
        walked: Iterator[Conversation] | AsyncIterator[Conversation] = _walk(
            self._client, pager, lambda q: conversations_flow(self._client, app_id, q)
        )
        return walked

    @overload
    def rename(
        self: ConversationsAPI[Dify],
        app_id: str,
        conversation_id: str,
        name: str | None = None,
        *,
        auto_generate: bool = False,
    ) -> Conversation: ...
    @overload
    def rename(
        self: ConversationsAPI[AsyncDify],
        app_id: str,
        conversation_id: str,
        name: str | None = None,
        *,
        auto_generate: bool = False,
    ) -> Async[Conversation]: ...
    def rename(
        self, app_id: str, conversation_id: str, name: str | None = None, *, auto_generate: bool = False
    ) -> Conversation | Async[Conversation]:
        """Rename to ``name``, or let Dify's model name it (``auto_generate``: with no working model,
        Dify keeps the old name and still answers success). Raises ConversationNotFoundError."""
        if not auto_generate and not (name and name.strip()):
            raise ValueError("a conversation's new name must not be empty")
        return self._run(lambda: rename_flow(self._client, app_id, conversation_id, name, auto_generate))

    @overload
    def delete(self: ConversationsAPI[Dify], app_id: str, conversation_id: str) -> None: ...
    @overload
    def delete(self: ConversationsAPI[AsyncDify], app_id: str, conversation_id: str) -> Async[None]: ...
    def delete(self, app_id: str, conversation_id: str) -> Async[None] | None:
        """Delete it on the server. Raises ConversationNotFoundError if it is already gone."""
        return self._run(lambda: delete_flow(self._client, app_id, conversation_id))


class MessagesAPI(_Namespace[C]):
    """``client.app.messages``: a conversation's messages, their feedback and suggested questions."""

    @overload
    def __call__(self: MessagesAPI[Dify], app_id: str, conversation_id: str, limit: int = 20) -> JSON: ...
    @overload
    def __call__(
        self: MessagesAPI[AsyncDify], app_id: str, conversation_id: str, limit: int = 20
    ) -> Async[JSON]: ...
    def __call__(self, app_id: str, conversation_id: str, limit: int = 20) -> JSON | Async[JSON]:
        """The newest messages of a conversation, oldest first: Dify's raw page."""
        params = {"conversation_id": conversation_id, "limit": limit}
        return self._run(lambda: self._client._history_flow(app_id, "messages", params))

    @overload
    def page(
        self: MessagesAPI[Dify],
        app_id: str,
        conversation_id: str,
        limit: int = 20,
        first_id: str | None = None,
    ) -> Page: ...
    @overload
    def page(
        self: MessagesAPI[AsyncDify],
        app_id: str,
        conversation_id: str,
        limit: int = 20,
        first_id: str | None = None,
    ) -> Async[Page]: ...
    def page(
        self, app_id: str, conversation_id: str, limit: int = 20, first_id: str | None = None
    ) -> Page | Async[Page]:
        """One raw page of :class:`Message`, oldest first (mind the same-second quirk: prefer ``all``)."""
        query: dict[str, Any] = {"limit": limit}
        if first_id:
            query["first_id"] = first_id
        return self._run(lambda: messages_flow(self._client, app_id, conversation_id, query))

    @overload
    def all(
        self: MessagesAPI[Dify], app_id: str, conversation_id: str, page_size: int = 100
    ) -> Iterator[Message]: ...
    @overload
    def all(
        self: MessagesAPI[AsyncDify], app_id: str, conversation_id: str, page_size: int = 100
    ) -> AsyncIterator[Message]: ...
    def all(
        self, app_id: str, conversation_id: str, page_size: int = 100
    ) -> Iterator[Message] | AsyncIterator[Message]:
        """Every message once, newest first, paging backwards as the iteration goes (see MessagePager).
        Raises ConversationNotFoundError if the conversation is gone."""
        pager = MessagePager(page_size)
        walked: Iterator[Message] | AsyncIterator[Message] = _walk(
            self._client, pager, lambda q: messages_flow(self._client, app_id, conversation_id, q)
        )
        return walked

    @overload
    def feedback(
        self: MessagesAPI[Dify],
        app_id: str,
        message_id: str,
        rating: Rating | None,
        content: str | None = None,
    ) -> None: ...
    @overload
    def feedback(
        self: MessagesAPI[AsyncDify],
        app_id: str,
        message_id: str,
        rating: Rating | None,
        content: str | None = None,
    ) -> Async[None]: ...
    def feedback(
        self, app_id: str, message_id: str, rating: Rating | None, content: str | None = None
    ) -> Async[None] | None:
        """Like, dislike (a new rating replaces the old one, and its comment: an omitted ``content``
        clears it) or clear (``rating=None``; clearing when there is none is no error here)."""
        flow = (
            self._clear_flow(app_id, message_id)
            if rating is None
            else feedback_flow(self._client, app_id, message_id, rating, content)
        )
        return self._run(lambda: flow)

    def _clear_flow(self, app_id: str, message_id: str) -> Flow[None]:
        try:
            yield from feedback_flow(self._client, app_id, message_id, None, None)
        except DifyAPIError as error:
            # Dify: "rating cannot be None when feedback not exists": already clear is the wanted state
            if not (error.status == 400 and "feedback not exists" in error.message):
                raise

    @overload
    def suggested(self: MessagesAPI[Dify], app_id: str, message_id: str) -> Suggestions: ...
    @overload
    def suggested(self: MessagesAPI[AsyncDify], app_id: str, message_id: str) -> Async[Suggestions]: ...
    def suggested(self, app_id: str, message_id: str) -> Suggestions | Async[Suggestions]:
        """Questions to ask next after an answer; none, with the reason, when the app cannot give them."""
        return self._run(lambda: suggested_flow(self._client, app_id, message_id))

    @overload
    def app_feedbacks(
        self: MessagesAPI[Dify], app_id: str, page: int = 1, limit: int = 20
    ) -> list[Feedback]: ...
    @overload
    def app_feedbacks(
        self: MessagesAPI[AsyncDify], app_id: str, page: int = 1, limit: int = 20
    ) -> Async[list[Feedback]]: ...
    def app_feedbacks(
        self, app_id: str, page: int = 1, limit: int = 20
    ) -> list[Feedback] | Async[list[Feedback]]:
        """Every user's ratings of the app, newest first, by page number (Dify gives no total)."""
        return self._run(lambda: app_feedbacks_flow(self._client, app_id, page, limit))


class WorkflowRunsAPI(_Namespace[C]):
    """``client.app.workflow_runs``: a workflow app's runs as the server keeps them (any client's)."""

    @overload
    def logs(
        self: WorkflowRunsAPI[Dify],
        app_id: str,
        page: int = 1,
        limit: int = 20,
        status: LogStatus | None = None,
        keyword: str | None = None,
    ) -> WorkflowLogPage: ...
    @overload
    def logs(
        self: WorkflowRunsAPI[AsyncDify],
        app_id: str,
        page: int = 1,
        limit: int = 20,
        status: LogStatus | None = None,
        keyword: str | None = None,
    ) -> Async[WorkflowLogPage]: ...
    def logs(
        self,
        app_id: str,
        page: int = 1,
        limit: int = 20,
        status: LogStatus | None = None,
        keyword: str | None = None,
    ) -> WorkflowLogPage | Async[WorkflowLogPage]:
        """One page of runs, newest first (``status``: only succeeded, failed or stopped filter)."""
        params: dict[str, Any] = {"page": page, "limit": limit}
        if status:
            params["status"] = status
        if keyword:
            params["keyword"] = keyword
        return self._run(lambda: workflow_logs_flow(self._client, app_id, params))

    @overload
    def get(self: WorkflowRunsAPI[Dify], app_id: str, run_id: str) -> WorkflowRunDetail: ...
    @overload
    def get(self: WorkflowRunsAPI[AsyncDify], app_id: str, run_id: str) -> Async[WorkflowRunDetail]: ...
    def get(self, app_id: str, run_id: str) -> WorkflowRunDetail | Async[WorkflowRunDetail]:
        """One run: status, decoded inputs, outputs, error, steps, tokens and times."""
        return self._run(lambda: workflow_run_flow(self._client, app_id, run_id))
