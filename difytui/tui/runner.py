"""Worker bodies: the only place the TUI talks to Dify (through ``AsyncDify``).

Each function runs inside a Textual worker started by a pane and reports back with
``post(message)``; none of them touches a widget. Errors become failure messages with a readable
text: ``DifyError`` as Dify said it, anything else (a bug, odd JSON) as its type and message, so
nothing reaches the screen as a traceback and no crash dump prints a worker's locals (keys).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from difytui.errors import ConversationNotFoundError, DifyAPIError, DifyError, MessageNotFoundError
from difytui.history import ConversationPager, MessagePager
from difytui.human_input import HumanInputForm, forms_in
from difytui.models import UNKNOWN_STATUS, run_status
from difytui.tui import messages as m
from difytui.tui.models import RunRequest
from difytui.tui.run_recording import Record, RunLog
from difytui.tui.safe_text import one_line
from difytui.tui.uploads import upload_files

if TYPE_CHECKING:
    from difytui.client import AsyncDify, AsyncEventStream
    from difytui.history import Rating

#: How a worker reports: ``post_message`` of the widget that started it.
Post = Callable[[Message], object]

ANSWER_EVENTS = frozenset({"message", "agent_message"})
GRAPH_EVENTS = frozenset(
    {
        "workflow_started",
        "node_started",
        "node_finished",
        "node_retry",
        "iteration_started",
        "iteration_next",
        "iteration_completed",
        "loop_started",
        "loop_next",
        "loop_completed",
        "agent_log",
    }
)


def describe_error(error: BaseException) -> tuple[str, str, int | None]:
    """(readable message, Dify code, HTTP status) for a notice."""
    if isinstance(error, DifyAPIError):
        text = f"{error.status} {error.code}".strip() + f": {one_line(error.message) or 'no message'}"
        if error.hint:  # the backend's advice: check the app's key, or log in again
            text += f" — {error.hint}"
        return text, error.code, error.status
    if isinstance(error, DifyError):
        return one_line(str(error)), "", None
    return f"unexpected error ({type(error).__name__}): {one_line(str(error))}", "", None


def _invoke(client: AsyncDify, request: RunRequest) -> AsyncEventStream:
    app = client.app
    if request.interface == "chat":
        return app.chat.invoke(
            request.app_id,
            request.query,
            request.inputs,
            conversation_id=request.conversation_id,
            files=request.files or None,
        )
    if request.interface == "workflow":
        return app.workflow.invoke(request.app_id, request.inputs, files=request.files or None)
    return app.completion.invoke(request.app_id, request.inputs, files=request.files or None)


def _error_event_message(event: dict[str, Any]) -> tuple[str, str, int | None]:
    code = str(event.get("code") or "")
    status = event.get("status") if isinstance(event.get("status"), int) else None
    text = one_line(event.get("message")) or "the run failed"
    label = f"{status or ''} {code}".strip()
    return (f"{label}: {text}" if label else text), code, status


async def stream_run(
    client: AsyncDify, request: RunRequest, run_id: int, post: Post, record: Record | None = None
) -> None:
    """Run ``request`` as a stream, posting one typed message per event, then RunFinished/RunFailed.

    Cancellation (Escape) closes the stream before it propagates; the pane calls the stop endpoint.
    ``record`` is handed the run's log (every event, how it ended) however it ends, stops included.
    """
    await logged(RunLog.start(request), post, record, partial(_stream_run, client, request, run_id))


async def logged(
    log: RunLog,
    post: Post,
    record: Record | None,
    body: Callable[[Post, list[dict[str, Any]]], Awaitable[None]],
) -> None:
    """Run ``body(post, events)`` keeping ``log`` (its events, how it ended: a RunFailed it posts,
    a cancel, a bug), then hand the log to ``record`` however it ended."""

    def tell(message: Message) -> object:
        if isinstance(message, m.RunFailed):
            log.failed(message.message)
        return post(message)

    try:
        await body(tell, log.events)
    except asyncio.CancelledError:
        log.status = log.status or "stopped"  # Escape, or the console closing
        raise
    except BaseException as error:  # a bug: the worker's failure says it; the record keeps it too
        log.failed(describe_error(error)[0])
        raise
    finally:
        log.finish()
        if record is not None:
            record(log)


async def _stream_run(
    client: AsyncDify, request: RunRequest, run_id: int, post: Post, events: list[dict[str, Any]]
) -> None:
    post(m.RunStarted(run_id, time.monotonic()))
    try:
        request = await upload_files(client, request, run_id, post)  # first: big files show progress
        stream = _invoke(client, request)
    except Exception as error:  # see the module docstring
        text, code, status = describe_error(error)
        post(m.RunFailed(run_id, text, code, status, time.monotonic(), None))
        return
    await follow_stream(stream, run_id, post, events)


async def follow_stream(
    stream: AsyncEventStream,
    run_id: int,
    post: Post,
    events: list[dict[str, Any]] | None = None,
    *,
    replayed: bool = False,
    resumed: bool = False,
) -> None:
    """Post ``stream``'s events as typed messages (``events`` keeps them), then RunFinished or
    RunFailed; closes it. ``replayed``: the stream starts with a snapshot of the run up to the pause
    being resumed, skipped (the pane shows it). ``resumed``: a resumed run, whose whole chat answer
    is ``workflow_finished.outputs.answer`` (FinalAnswer: Dify drops resumed text)."""
    clock = time.monotonic
    first: float | None = None
    required: list[HumanInputForm] = []
    events = [] if events is None else events
    ids: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    finished: dict[str, Any] | None = None
    reconnects = 0
    try:
        async for event in stream:
            events.append(event)
            now = clock()
            if first is None:
                first = now
            if stream.reconnects != reconnects:  # the connection dropped before this event
                reconnects = stream.reconnects
                post(m.RunReconnected(run_id, reconnects))
            kind = event.get("event")
            if replayed:  # the snapshot ends with the pause being resumed; a finished run sends its end
                replayed = kind not in ("workflow_paused", "workflow_finished")
                if kind != "workflow_finished":
                    continue
            seen = {
                "task_id": event.get("task_id"),
                "conversation_id": event.get("conversation_id"),
                "message_id": event.get("message_id"),
                "workflow_run_id": event.get("workflow_run_id"),
            }
            changed = {k: v for k, v in seen.items() if v and ids.get(k) != v}
            if changed:
                ids.update(changed)
                post(m.RunIds(run_id, event, now, **{k: ids.get(k) for k in seen}))
            if kind in ANSWER_EVENTS or (
                kind == "message_file" and "answer" in event and not event.get("url")
            ):
                post(m.AnswerDelta(run_id, event, now, str(event.get("answer") or "")))
            elif kind == "text_chunk":
                data = event.get("data") or {}
                post(m.AnswerDelta(run_id, event, now, str(data.get("text") or "")))
            elif kind == "message_replace":
                post(m.AnswerReplaced(run_id, event, now, str(event.get("answer") or "")))
            elif kind in GRAPH_EVENTS:
                post(m.NodeEvent(run_id, event, now))
            elif kind == "agent_thought":
                post(m.AgentThought(run_id, event, now))
            elif kind == "human_input_form_filled":
                post(m.FormFilled(run_id, event, now))
            else:
                if kind == "human_input_required":
                    required += forms_in(event)
                elif kind == "workflow_paused":
                    post(m.FormsPending(run_id, event, now, _pending_forms(required, event)))
                elif kind == "workflow_finished" and resumed and (answer := _answer_of(event)) is not None:
                    post(m.FinalAnswer(run_id, event, now, answer))
                post(m.OtherEvent(run_id, event, now))
                if kind == "message_end":
                    raw = event.get("metadata")
                    metadata = dict(raw) if isinstance(raw, dict) else {}
                    usage = dict(metadata.get("usage") or {})
                    finished = finished or {"status": "succeeded"}
                elif kind in ("workflow_finished", "workflow_paused"):
                    data = event.get("data") or {}
                    finished = {
                        "status": "paused" if kind == "workflow_paused" else run_status(data),
                        "error": data.get("error"),
                        "outputs": data.get("outputs"),
                        "elapsed_time": data.get("elapsed_time"),
                    }
                    if data.get("total_tokens") and not usage.get("total_tokens"):
                        usage["total_tokens"] = data.get("total_tokens")
                    if stream.reconciled_answer is not None:
                        post(m.AnswerReconciled(run_id, stream.reconciled_answer))
                    if kind == "workflow_paused":  # a resume's listener would go on waiting
                        break
                elif kind == "error":
                    text, code, status = _error_event_message(event)
                    post(m.RunFailed(run_id, text, code, status, clock(), first))
                    return
    except Exception as error:  # DifyError, or a bug: both end the run with a readable notice
        text, code, status = describe_error(error)
        post(m.RunFailed(run_id, text, code, status, clock(), first))
        return
    finally:
        # Also on cancellation (Escape): after an `error` event Dify may keep the connection open.
        await stream.aclose()
    finished = finished or {"status": "succeeded"}
    if finished.get("status") == UNKNOWN_STATUS:  # never read an unreadable end as a success
        text = "the run's end could not be read: Dify's workflow_finished carried no status"
        post(m.RunFailed(run_id, text, "", None, clock(), first))
        return
    error = finished.get("error")
    post(
        m.RunFinished(
            run_id,
            status=finished.get("status") or "succeeded",
            finished_at=clock(),
            first_event_at=first,
            error=one_line(error) if error else None,
            outputs=finished.get("outputs"),
            usage=usage,
            elapsed_time=finished.get("elapsed_time"),
            metadata=metadata,
        )
    )


def _pending_forms(required: list[HumanInputForm], paused: dict[str, Any]) -> list[HumanInputForm]:
    """The forms a pause waits for: its reasons' tokens, with the rendered content of the
    ``human_input_required`` events seen (a replayed pause carries the unrendered template)."""
    seen = {form.form_token: form for form in required}
    return [seen.get(form.form_token, form) for form in forms_in(paused)] or required


def _answer_of(finished: dict[str, Any]) -> str | None:
    data = finished.get("data")
    outputs = data.get("outputs") if isinstance(data, dict) else None
    answer = outputs.get("answer") if isinstance(outputs, dict) else None
    return answer if isinstance(answer, str) else None


async def stop_task(client: AsyncDify, app_id: str, task_id: str, post: Post) -> None:
    """Ask Dify to stop ``task_id`` (after the pane closed the stream)."""
    try:
        await client.app.stop(app_id, task_id)
    except Exception as error:
        post(m.StopDone(task_id, describe_error(error)[0]))
        return
    post(m.StopDone(task_id))


async def load_parameters(client: AsyncDify, app_id: str, post: Post) -> None:
    try:
        parameters = await client.app.parameters(app_id)
    except Exception as error:
        post(m.ParametersFailed(app_id, describe_error(error)[0]))
        return
    post(m.ParametersLoaded(app_id, parameters if isinstance(parameters, dict) else {}))


async def refresh_apps(client: AsyncDify, post: Post) -> None:
    try:
        apps = list(await client.apps())
    except Exception as error:
        post(m.AppsRefreshFailed(describe_error(error)[0]))
        return
    post(m.AppsRefreshed(apps))


# -- conversations: the list, a conversation's earlier messages, rename and delete ----------------

NO_HISTORY = "Dify's account API has no conversation history"


async def load_conversations(client: AsyncDify, app_id: str, pager: ConversationPager, post: Post) -> None:
    """The next page of ``pager`` (the list's cursor stays in it, for the next call)."""
    query = pager.next_query()
    if query is None:
        return
    try:
        page = await client.app.conversations.page(
            app_id, int(query["limit"]), str(query.get("last_id") or "") or None, pager.sort_by
        )
    except Exception as error:
        gone = (
            isinstance(error, DifyAPIError) and error.status == 404 and "Last Conversation" in error.message
        )
        post(m.ConversationsFailed(app_id, describe_error(error)[0], cursor_gone=gone))
        return
    fresh = pager.feed(page)
    post(m.ConversationsPage(app_id, fresh, pager.next_query() is not None))


async def load_messages(
    client: AsyncDify, app_id: str, conversation_id: str, pager: MessagePager, post: Post
) -> None:
    """The next messages of ``pager`` not given before: pages are read until one brings some (a
    page may re-read only known ones: see MessagePager) or the conversation's start is reached."""
    if not client.has_history:
        post(m.MessagesFailed(conversation_id, pager, NO_HISTORY, unavailable=True))
        return
    fresh: list[Any] = []
    try:
        while not fresh and (query := pager.next_query()) is not None:
            page = await client.app.messages.page(
                app_id, conversation_id, int(query["limit"]), str(query.get("first_id") or "") or None
            )
            fresh = pager.feed(page)
    except Exception as error:
        gone = isinstance(error, ConversationNotFoundError)
        post(m.MessagesFailed(conversation_id, pager, describe_error(error)[0], gone=gone))
        return
    post(m.MessagesPage(conversation_id, pager, fresh, pager.next_query() is not None))


async def rename_conversation(
    client: AsyncDify, app_id: str, conversation_id: str, name: str | None, post: Post
) -> None:
    """Rename to ``name``; None: let Dify's model name it."""
    try:
        if name is None:
            renamed = await client.app.conversations.rename(app_id, conversation_id, auto_generate=True)
        else:
            renamed = await client.app.conversations.rename(app_id, conversation_id, name)
    except Exception as error:
        gone = isinstance(error, ConversationNotFoundError)
        post(m.ConversationChanged(conversation_id, error=describe_error(error)[0], gone=gone))
        return
    post(m.ConversationChanged(conversation_id, renamed=renamed))


async def delete_conversation(client: AsyncDify, app_id: str, conversation_id: str, post: Post) -> None:
    try:
        await client.app.conversations.delete(app_id, conversation_id)
    except Exception as error:
        gone = isinstance(error, ConversationNotFoundError)
        post(m.ConversationChanged(conversation_id, error=describe_error(error)[0], gone=gone))
        return
    post(m.ConversationChanged(conversation_id))


async def send_feedback(
    client: AsyncDify, app_id: str, message_id: str, rating: Rating | None, comment: str | None, post: Post
) -> None:
    """Like, dislike or clear (``rating`` None) an answer, with an optional comment."""
    try:
        await client.app.messages.feedback(app_id, message_id, rating, comment)
    except MessageNotFoundError:
        text = "Dify no longer has this answer (its conversation was deleted?): the rating was not saved."
        post(m.FeedbackFailed(message_id, text))
        return
    except Exception as error:
        post(m.FeedbackFailed(message_id, "Could not save the rating: " + describe_error(error)[0]))
        return
    post(m.FeedbackSaved(message_id, rating, comment))


async def load_suggestions(client: AsyncDify, app_id: str, message_id: str, post: Post) -> None:
    """The app's questions to ask next. Quiet when there are none for any reason (the feature off,
    no model, the server gone): they are a nicety, and the next message says what is wrong."""
    try:
        found = await client.app.messages.suggested(app_id, message_id)
    except Exception:
        return
    if found.questions:
        post(m.SuggestionsLoaded(message_id, list(found.questions)))
