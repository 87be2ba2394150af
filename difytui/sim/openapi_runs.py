"""The account API's run routes: run an app, stop its task, upload a file for it.

Runs reuse the Service API's machinery (:mod:`.runs`, the server's pacing and its error-then-silence
path), attributed to the account instead of an end user, and always streamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import api_events, human_input, uploads
from .api_context import Ctx
from .openapi_responses import HEADERS, error, invalid, json_response
from .runs import CHAT_MODES, Stream, new_run
from .validation import is_uuid, prepare_files, prepare_inputs

if TYPE_CHECKING:
    from . import wire
    from .device_flow import AccountToken
    from .openapi import OpenApi
    from .server import Request


def run(oa: OpenApi, req: Request, token: AccountToken, app: str) -> wire.Response | Stream:
    record = oa.app_record(app)
    body = req.json
    if not isinstance(body, dict):
        return invalid([("model_attributes_type", ["body"], "Input should be a valid dictionary")])
    d, mode = record.definition, record.mode
    if not isinstance(body.get("inputs"), dict):
        kind = "missing" if "inputs" not in body else "dict_type"
        return invalid([(kind, ["body", "inputs"], "Field required")])
    query = body.get("query")
    if mode in CHAT_MODES and (not isinstance(query, str) or not query.strip()):
        return error(422, "invalid_param", "query_required_for_chat")
    if mode == "workflow" and query is not None:
        return error(422, "invalid_param", "query_not_supported_for_workflow")
    cid = body.get("conversation_id") or ""
    if cid and not is_uuid(cid):
        return invalid([("value_error", ["body", "conversation_id"], "must be a valid UUID")])
    user = oa.dir.account["id"]
    state = oa.api.state
    strict = mode == "workflow"
    try:
        conv = None
        if cid and mode in CHAT_MODES:
            conv = state.conversation(record.slug, user, cid)
            if conv is None:
                raise ValueError("Conversation Not Exists.")
        inputs = prepare_inputs(d, body["inputs"], state.uploads, strict=strict)
        files = prepare_files(d, body.get("files"), state.uploads, strict=strict)
    except ValueError as exc:
        # Generation errors reach the account API's stream as an error event, then silence.
        return Stream(error=str(exc), headers=HEADERS)
    started = new_run(
        state,
        app_id=record.slug,
        app=d,
        user=user,
        inputs=inputs,
        files=files,
        query=query if isinstance(query, str) else "",
        conversation=conv,
        # Runs here belong to the account: workflow_finished names it (run_chat_turn1).
        created_by={k: oa.dir.account[k] for k in ("id", "name", "email")},
    )
    return Stream(run=started, headers=HEADERS)


def stop(oa: OpenApi, req: Request, token: AccountToken, app: str, task_id: str) -> wire.Response:
    record = oa.app_record(app)
    oa.api.stop_task(task_id, record.slug)
    return json_response({"result": "success"})


def upload(oa: OpenApi, req: Request, token: AccountToken, app: str) -> wire.Response:
    record = oa.app_record(app)
    account = oa.dir.account["id"]
    return uploads.store_upload(
        oa.api.state, req, created_by=lambda _user: account, tenant_id=record.workspace_id
    )


# --- Human Input and re-attaching (the Service API's handlers, for the account's runs) ---------


def _ctx(oa: OpenApi, req: Request, record: Any, **params: str) -> Ctx:
    ctx = Ctx(req, params, app_id=record.slug, app=record.definition, user=oa.dir.account["id"])
    ctx.body = req.json if isinstance(req.json, dict) else {}
    return ctx


def events(oa: OpenApi, req: Request, token: AccountToken, app: str, run_id: str) -> wire.Response | Stream:
    """``/apps/<id>/tasks/<workflow_run_id>/events``: the path's "task" is the run id (protocol §6)."""
    record = oa.app_record(app)
    if record.mode not in ("workflow", "advanced-chat"):
        return error(422, "invalid_param", "app_mode_not_supported")
    wr = oa.api.state.workflow_runs.get(run_id)
    if wr is None or wr.app_id != record.slug or wr.user != oa.dir.account["id"]:
        return error(404, "not_found", "Workflow run not found")
    stream = api_events.listen(oa.api, _ctx(oa, req, record), wr)
    stream.headers = HEADERS
    return stream


def form(oa: OpenApi, req: Request, token: AccountToken, app: str, form_token: str) -> wire.Response:
    record = oa.app_record(app)
    ctx = _ctx(oa, req, record, token=form_token)
    if req.method == "GET":
        return human_input.get_form(oa.api, ctx)
    return human_input.submit_form(oa.api, ctx)
