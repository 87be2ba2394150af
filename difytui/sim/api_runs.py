"""Service API runs: start chat, completion and workflow runs, and read workflow-run records.

A run streams (the server paces its :mod:`.events` script) or, in blocking mode, is drained here at
once. Path-B apps (chatflow, workflow) report input errors inside a stream: ping, error, silence.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from . import wire
from .api_context import Ctx, not_chat, wrong_mode
from .events import events_for
from .run_log import Suspend, log_of, paused_body
from .runs import Run, Stream, new_run
from .state import Conversation
from .validation import is_uuid, parse_payload, prepare_files, prepare_inputs, pydantic_error

if TYPE_CHECKING:
    from .api import Api


def _run(
    api: Api, ctx: Ctx, inputs: dict, files: list, query: str = "", conv: Conversation | None = None
) -> Run:
    """A run of the key's app for the caller, with the history its mode keeps."""
    return new_run(
        api.state,
        app_id=ctx.app_id,
        app=ctx.app,
        user=ctx.user,
        inputs=inputs,
        files=files,
        query=query,
        conversation=conv,
    )


def _answer(run: Run, streaming: bool) -> wire.Response | Stream:
    if run.workflow_run is not None:
        log_of(run).streaming = streaming
    if streaming:
        return Stream(run=run)
    for item in events_for(run):  # blocking: drain without pacing, up to a pause on a form
        if isinstance(item, Suspend):
            return wire.blocking(paused_body(run))
    return wire.blocking(run.blocking_body())


def chat(api: Api, ctx: Ctx) -> wire.Response | Stream:
    if (bad := not_chat(ctx)) is not None:
        return bad
    app, mode = ctx.app, ctx.app["mode"]
    p = parse_payload("ChatRequestPayload", ctx.body)
    streaming = p["response_mode"] == "streaming"
    if mode == "agent-chat" and not streaming:
        raise ValueError("Agent Chat App does not support blocking mode")
    path_b = mode == "advanced-chat" and streaming
    try:
        query = p["query"]
        if not query:
            raise ValueError("query is required")
        conv = None
        if p["conversation_id"]:
            conv = api.state.conversation(ctx.app_id, ctx.user, p["conversation_id"])
            # A chatflow silently starts a new conversation for an unknown id.
            if conv is None and mode != "advanced-chat":
                return wire.not_found("Conversation Not Exists.", "/v1/chat-messages")
        uploads = api.state.uploads
        inputs = prepare_inputs(app, p["inputs"], uploads, strict=False)
        files = prepare_files(app, p["files"], uploads, strict=False)
    except ValueError as exc:
        if path_b:
            return Stream(error=str(exc))
        raise
    return _answer(_run(api, ctx, inputs, files, query, conv), streaming)


def completion(api: Api, ctx: Ctx) -> wire.Response | Stream:
    if (bad := wrong_mode(ctx, ("completion",), "app_unavailable")) is not None:
        return bad
    app = ctx.app
    p = parse_payload("CompletionRequestPayload", ctx.body)
    inputs = prepare_inputs(app, p["inputs"], api.state.uploads, strict=False)
    files = prepare_files(app, p["files"], api.state.uploads, strict=False)
    run = _run(api, ctx, inputs, files, p["query"] or "")
    return _answer(run, p["response_mode"] == "streaming")


def workflow_run(api: Api, ctx: Ctx) -> wire.Response | Stream:
    if (bad := wrong_mode(ctx, ("workflow",), "not_workflow_app")) is not None:
        return bad
    app = ctx.app
    p = parse_payload("WorkflowRunPayload", ctx.body)
    pinned = ctx.params.get("workflow_id")
    if pinned is not None:
        if not is_uuid(pinned):
            return wire.error(400, "bad_request", f"Invalid workflow_id format: '{pinned}'. ")
        if pinned != app["workflow_id"]:
            return wire.error(404, "not_found", f"Workflow not found with id: {pinned}")
    streaming = p["response_mode"] == "streaming"
    try:
        inputs = prepare_inputs(app, p["inputs"], api.state.uploads, strict=True)
        files = prepare_files(app, p["files"], api.state.uploads, strict=True)
    except ValueError as exc:
        if streaming:
            return Stream(error=str(exc))
        raise
    return _answer(_run(api, ctx, inputs, files), streaming)


# --- workflow records ---------------------------------------------------------------------------


def get_workflow_run(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := wrong_mode(ctx, ("workflow", "advanced-chat"), "not_workflow_app")) is not None:
        return bad
    wr = api.state.workflow_runs.get(ctx.params["run_id"])
    if wr is None or wr.app_id != ctx.app_id:
        return wire.error(404, "not_found", "Workflow run not found.")
    return wire.ok(
        {
            "id": wr.id,
            "workflow_id": ctx.app["workflow_id"],
            "status": wr.status,
            "inputs": json.dumps(wr.inputs),
            "outputs": wr.outputs,
            "error": wr.error,
            "total_steps": wr.total_steps,
            "total_tokens": wr.total_tokens,
            "created_at": wr.created_at,
            "finished_at": wr.finished_at,
            "elapsed_time": wr.elapsed_time,
        }
    )


#: the only statuses ``/workflows/logs`` filters by (``paused``, ``running`` → 400; BA6, BB3)
_LOG_STATUSES = ("succeeded", "failed", "stopped")


def workflow_logs(api: Api, ctx: Ctx) -> wire.Response:
    q = ctx.request.query
    page, limit = (
        wire.bounded_int(q.get("page"), 1, 1, 99999),
        wire.bounded_int(q.get("limit"), 20, 1, 100),
    )
    status = q.get("status")
    if status and status not in _LOG_STATUSES:
        raise pydantic_error(
            "WorkflowLogQuery",
            [("status", "Input should be 'succeeded', 'failed' or 'stopped'", "literal_error", status)],
        )
    runs = [r for r in api.state.workflow_runs.values() if r.app_id == ctx.app_id]
    if status:
        runs = [r for r in runs if r.status == status]
    if q.get("created_by_end_user_session_id"):
        runs = [r for r in runs if r.user == q["created_by_end_user_session_id"]]
    if q.get("keyword"):
        # Dify searches the run's inputs and outputs text
        runs = [r for r in runs if q["keyword"] in json.dumps([r.inputs, r.outputs], ensure_ascii=False)]
    runs.reverse()
    chunk = runs[(page - 1) * limit : page * limit]
    data = []
    for r in chunk:
        data.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "workflow-app-log:" + r.id)),  # stable across pages
                "workflow_run": {
                    "id": r.id,
                    "version": "2026-11-26 10:26:20.475933",
                    "status": r.status,
                    "triggered_from": "app-run",
                    "error": r.error,
                    "elapsed_time": r.elapsed_time,
                    "total_tokens": r.total_tokens,
                    "total_steps": r.total_steps,
                    "created_at": r.created_at,
                    "finished_at": r.finished_at,
                    "exceptions_count": 0,
                },
                "details": None,
                "created_from": "service-api",
                "created_by_role": "end_user",
                "created_by_account": None,
                "created_by_end_user": {
                    "id": api.state.end_user_id(ctx.app_id, r.user),
                    "type": "service-api",
                    "is_anonymous": r.user == "DEFAULT-USER",
                    "session_id": r.user,
                },
                "created_at": r.created_at,
            }
        )
    return wire.ok(
        {
            "page": page,
            "limit": limit,
            "total": len(runs),
            "has_more": page * limit < len(runs),
            "data": data,
        }
    )
