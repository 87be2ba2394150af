"""The Service API's routes and handler semantics (auth, mode gating, user, payloads, history).

``Api.dispatch`` turns a parsed request into a :class:`~.wire.Response` or a :class:`Stream` that
the server writes; it never touches sockets. Order of checks follows Flask + Dify: routing (HTML
404 / JSON 405) → token → JSON body → ``user`` → handler (mode → payload → inputs).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import wire
from .apps import ALL_APPS, info_body, parameters_body, site_body
from .runs import Run, events_for
from .state import State, now
from .validation import (
    file_type_for,
    is_uuid,
    parse_payload,
    prepare_files,
    prepare_inputs,
    pydantic_error,
)

if TYPE_CHECKING:
    from .server import Request

CHAT_MODES = ("chat", "agent-chat", "advanced-chat", "agent")
_MODE_MSG = "Please check if your app mode matches the right API route."
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SIZE_LIMITS_MB = {"image": 10, "video": 100, "audio": 50}


@dataclass
class Stream:
    """A streaming answer: either a run to pace, or a path-B worker error (ping, error, silence)."""

    run: Run | None = None
    error: str | None = None
    #: response headers instead of the Service API's (the account API sends its own set)
    headers: dict[str, str] | None = field(default=None)


@dataclass
class Ctx:
    request: Request
    params: dict
    app_id: str = ""
    app: dict | None = None
    body: Any = None
    user: str = "DEFAULT-USER"


def _route(pattern: str, **methods: tuple[str, str | None]):
    """methods: HTTP method → (handler name, user source: json | query | form | None)."""
    return re.compile(pattern + r"\Z"), methods


ROUTES = [
    _route(r"/v1/?", GET=("index", "public")),
    _route(r"/v1/info", GET=("info", None)),
    _route(r"/v1/parameters", GET=("parameters", None)),
    _route(r"/v1/meta", GET=("meta", None)),
    _route(r"/v1/site", GET=("site", None)),
    _route(r"/v1/chat-messages", POST=("chat", "json")),
    _route(r"/v1/chat-messages/(?P<task_id>[^/]+)/stop", POST=("stop_chat", "json")),
    _route(r"/v1/completion-messages", POST=("completion", "json")),
    _route(r"/v1/completion-messages/(?P<task_id>[^/]+)/stop", POST=("stop_completion", "json")),
    _route(r"/v1/workflows/run", POST=("workflow_run", "json")),
    _route(r"/v1/workflows/tasks/(?P<task_id>[^/]+)/stop", POST=("stop_workflow", "json")),
    _route(r"/v1/workflows/run/(?P<run_id>[^/]+)", GET=("get_workflow_run", None)),
    _route(r"/v1/workflows/logs", GET=("workflow_logs", None)),
    _route(r"/v1/workflows/(?P<workflow_id>[^/]+)/run", POST=("workflow_run", "json")),
    _route(r"/v1/conversations", GET=("conversations", "query")),
    _route(rf"/v1/conversations/(?P<cid>{_UUID})", DELETE=("delete_conversation", "json?")),
    _route(rf"/v1/conversations/(?P<cid>{_UUID})/name", POST=("rename_conversation", "json?")),
    _route(r"/v1/messages", GET=("messages", "query")),
    _route(rf"/v1/messages/(?P<mid>{_UUID})/feedbacks", POST=("feedback", "json")),
    _route(rf"/v1/messages/(?P<mid>{_UUID})/suggested", GET=("suggested", "query!")),
    _route(r"/v1/files/upload", POST=("upload", "form")),
]


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


class Api:
    def __init__(self, state: State, keys: dict[str, str], apps: dict[str, dict] | None = None) -> None:
        self.state = state
        #: app id → definition; console-only apps join the demo ones (see :mod:`.workspace`)
        self.apps = dict(ALL_APPS if apps is None else apps)
        self.app_by_key = {key: app_id for app_id, key in keys.items()}
        #: app id → whether its Service API is switched on (the console's ``enable_api``)
        self.api_enabled: Callable[[str], bool] = lambda app_id: True
        #: task_id → Run for streams in flight (the server removes them when they end).
        self.running: dict[str, Run] = {}
        #: task_id → run whose client left: it goes on, as in Dify, and a stop call still reaches it
        self.detached: dict[str, Run] = {}
        #: task ids whose stop request reached a running task.
        self.stopped_tasks: list[str] = []

    def add_key(self, key: str, app_id: str) -> None:
        """A key created in the console works on /v1 from now on."""
        self.app_by_key[key] = app_id

    # --- dispatch -------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> wire.Response | Stream:
        found = wire.match_route(ROUTES, req)
        if found is None:
            return wire.not_found_html()
        if isinstance(found, wire.Response):
            return found
        name, user_src, params = found
        ctx = Ctx(req, params)
        try:
            early = self._prepare(ctx, user_src)
            if early is not None:
                return early
            return getattr(self, name)(ctx)
        except ValueError as exc:
            return wire.invalid_param(str(exc))
        except Exception:
            return wire.internal_error()

    def _prepare(self, ctx: Ctx, user_src: str | None) -> wire.Response | None:
        if user_src == "public":
            return None
        header = ctx.request.headers.get("authorization", "")
        parts = header.strip().split(None, 1)
        if len(parts) != 2:
            return wire.unauthorized("Authorization header must be provided and start with 'Bearer'")
        if parts[0].lower() != "bearer":
            return wire.unauthorized("Authorization scheme must be 'Bearer'")
        app_id = self.app_by_key.get(parts[1].strip())
        if app_id is None:
            return wire.unauthorized("Access token is invalid")
        if not self.api_enabled(app_id):
            return wire.error(403, "forbidden", "The app's API service has been disabled.")
        ctx.app_id, ctx.app = app_id, self.apps[app_id]
        if user_src in ("json", "json?"):
            if not _is_json(ctx.request.headers.get("content-type", "")):
                return wire.error(
                    415,
                    "unsupported_media_type",
                    "Did not attempt to load JSON data because the request Content-Type was not "
                    "'application/json'.",
                )
            try:
                ctx.body = json.loads(ctx.request.body)
            except ValueError:
                return wire.error(
                    400,
                    "bad_request",
                    "The browser (or proxy) sent a request that this server could not understand.",
                )
            if not isinstance(ctx.body, dict):
                return wire.internal_error()  # Dify calls .get() on it: AttributeError → 500
            user = ctx.body.get("user")
        elif user_src in ("query", "query!"):
            user = ctx.request.query.get("user")
        elif user_src == "form":
            user = None  # read by the upload handler from the multipart body
        else:
            return None
        if user_src in ("json", "query!") and not user:
            raise ValueError("Arg user must be provided.")
        ctx.user = user or "DEFAULT-USER"
        return None

    # --- metadata -------------------------------------------------------------------------------

    def index(self, ctx: Ctx):
        return wire.ok(
            {"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": wire.SERVER_VERSION}
        )

    def info(self, ctx: Ctx):
        return wire.ok(info_body(ctx.app))

    def parameters(self, ctx: Ctx):
        return wire.ok(parameters_body(ctx.app))

    def meta(self, ctx: Ctx):
        icons = {}
        if ctx.app["mode"] == "agent-chat":
            icons = {"web_search": {"background": "#252525", "content": "🔎"}}
        return wire.ok({"tool_icons": icons})

    def site(self, ctx: Ctx):
        return wire.ok(site_body(ctx.app))

    # --- generation -----------------------------------------------------------------------------

    def _start(self, ctx: Ctx, run: Run, streaming: bool) -> wire.Response | Stream:
        if streaming:
            return Stream(run=run)
        for _ in events_for(run):  # blocking: drain without pacing
            pass
        return wire.blocking(run.blocking_body())

    def chat(self, ctx: Ctx):
        app, mode = ctx.app, ctx.app["mode"]
        if mode not in CHAT_MODES:
            return wire.error(400, "not_chat_app", _MODE_MSG)
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
                conv = self.state.conversation(ctx.app_id, ctx.user, p["conversation_id"])
                # A chatflow silently starts a new conversation for an unknown id.
                if conv is None and mode != "advanced-chat":
                    return wire.not_found("Conversation Not Exists.", "/v1/chat-messages")
            uploads = self.state.uploads
            inputs = prepare_inputs(app, p["inputs"], uploads, strict=False)
            files = prepare_files(app, p["files"], uploads, strict=False)
        except ValueError as exc:
            if path_b:
                return Stream(error=str(exc))
            raise
        if conv is None:
            conv = self.state.new_conversation(app, ctx.app_id, ctx.user, query, inputs)
        msg = self.state.add_message(conv, query, inputs)
        run = Run(
            state=self.state,
            app_id=ctx.app_id,
            app=app,
            user=ctx.user,
            inputs=inputs,
            query=query,
            files=files,
            conversation=conv,
            message=msg,
        )
        return self._start(ctx, run, streaming)

    def completion(self, ctx: Ctx):
        app = ctx.app
        if app["mode"] != "completion":
            return wire.error(
                400, "app_unavailable", "App unavailable, please check your app configurations."
            )
        p = parse_payload("CompletionRequestPayload", ctx.body)
        inputs = prepare_inputs(app, p["inputs"], self.state.uploads, strict=False)
        files = prepare_files(app, p["files"], self.state.uploads, strict=False)
        msg = self.state.add_message(None, p["query"] or "", inputs)
        run = Run(
            state=self.state,
            app_id=ctx.app_id,
            app=app,
            user=ctx.user,
            inputs=inputs,
            query=p["query"] or "",
            files=files,
            message=msg,
        )
        return self._start(ctx, run, p["response_mode"] == "streaming")

    def workflow_run(self, ctx: Ctx):
        app = ctx.app
        if app["mode"] != "workflow":
            return wire.error(400, "not_workflow_app", _MODE_MSG)
        p = parse_payload("WorkflowRunPayload", ctx.body)
        pinned = ctx.params.get("workflow_id")
        if pinned is not None:
            if not is_uuid(pinned):
                return wire.error(400, "bad_request", f"Invalid workflow_id format: '{pinned}'. ")
            if pinned != app["workflow_id"]:
                return wire.error(404, "not_found", f"Workflow not found with id: {pinned}")
        streaming = p["response_mode"] == "streaming"
        try:
            inputs = prepare_inputs(app, p["inputs"], self.state.uploads, strict=True)
            files = prepare_files(app, p["files"], self.state.uploads, strict=True)
        except ValueError as exc:
            if streaming:
                return Stream(error=str(exc))
            raise
        run = Run(
            state=self.state,
            app_id=ctx.app_id,
            app=app,
            user=ctx.user,
            inputs=inputs,
            files=files,
        )
        return self._start(ctx, run, streaming)

    # --- stop -----------------------------------------------------------------------------------

    def _stop(self, ctx: Ctx, check_user: bool):
        run = self.live_run(ctx.params["task_id"])
        live = run is not None and run.app_id == ctx.app_id and not run.finished
        # Chatflow stops also go through the graph engine, which has no user check.
        if live and (not check_user or run.user == ctx.user or run.mode == "advanced-chat"):
            run.stop()
            self.stopped_tasks.append(run.task_id)
        return wire.ok({"result": "success"})

    def live_run(self, task_id: str) -> Run | None:
        """The task's run while it streams, or goes on after its client left."""
        return self.running.get(task_id) or self.detached.get(task_id)

    def stop_chat(self, ctx: Ctx):
        if ctx.app["mode"] not in CHAT_MODES:
            return wire.error(400, "not_chat_app", _MODE_MSG)
        return self._stop(ctx, check_user=True)

    def stop_completion(self, ctx: Ctx):
        if ctx.app["mode"] != "completion":
            return wire.error(
                400, "app_unavailable", "App unavailable, please check your app configurations."
            )
        return self._stop(ctx, check_user=True)

    def stop_workflow(self, ctx: Ctx):
        if ctx.app["mode"] != "workflow":
            return wire.error(400, "not_workflow_app", _MODE_MSG)
        return self._stop(ctx, check_user=False)

    # --- workflow records -----------------------------------------------------------------------

    def get_workflow_run(self, ctx: Ctx):
        if ctx.app["mode"] not in ("workflow", "advanced-chat"):
            return wire.error(400, "not_workflow_app", _MODE_MSG)
        wr = self.state.workflow_runs.get(ctx.params["run_id"])
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

    def workflow_logs(self, ctx: Ctx):
        q = ctx.request.query
        page, limit = (
            wire.bounded_int(q.get("page"), 1, 1, 99999),
            wire.bounded_int(q.get("limit"), 20, 1, 100),
        )
        runs = [r for r in self.state.workflow_runs.values() if r.app_id == ctx.app_id]
        if q.get("status"):
            runs = [r for r in runs if r.status == q["status"]]
        runs.reverse()
        chunk = runs[(page - 1) * limit : page * limit]
        data = []
        for r in chunk:
            data.append(
                {
                    "id": self.state.ids.new("log"),
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
                        "id": self.state.end_user_id(ctx.app_id, r.user),
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

    # --- history --------------------------------------------------------------------------------

    def _chat_only(self, ctx: Ctx):
        if ctx.app["mode"] not in CHAT_MODES:
            return wire.error(400, "not_chat_app", _MODE_MSG)
        return None

    def conversations(self, ctx: Ctx):
        if (bad := self._chat_only(ctx)) is not None:
            return bad
        q = ctx.request.query
        limit = wire.bounded_int(q.get("limit"), 20, 1, 100)
        sort_by = q.get("sort_by") or "-updated_at"
        key = "created" if "created_at" in sort_by else "updated"
        convs = [
            c for c in self.state.conversations.values() if c.app_id == ctx.app_id and c.user == ctx.user
        ]
        convs.sort(key=lambda c: c.order[key], reverse=sort_by.startswith("-"))
        last_id = q.get("last_id")
        if last_id:
            ids = [c.id for c in convs]
            if last_id not in ids:
                return wire.not_found("Last Conversation Not Exists.", "/v1/conversations")
            convs = convs[ids.index(last_id) + 1 :]
        page = convs[:limit]
        return wire.ok({"limit": limit, "has_more": len(convs) > limit, "data": [c.to_dict() for c in page]})

    def delete_conversation(self, ctx: Ctx):
        if (bad := self._chat_only(ctx)) is not None:
            return bad
        conv = self.state.conversation(ctx.app_id, ctx.user, ctx.params["cid"])
        if conv is None:
            return wire.not_found("Conversation Not Exists.", "/v1/conversations")
        del self.state.conversations[conv.id]
        return wire.Response(204, b"", None)

    def rename_conversation(self, ctx: Ctx):
        if (bad := self._chat_only(ctx)) is not None:
            return bad
        conv = self.state.conversation(ctx.app_id, ctx.user, ctx.params["cid"])
        if conv is None:
            return wire.not_found("Conversation Not Exists.", "/v1/conversations")
        name = ctx.body.get("name")
        if ctx.body.get("auto_generate"):
            name = conv.messages[0].query[:40] if conv.messages else None
            if name is None:
                raise ValueError("")
        elif not isinstance(name, str) or not name.strip():
            raise ValueError(
                "1 validation error for ConversationRenamePayload\n"
                "  Value error, name is required when auto_generate is false "
                f"[type=value_error, input_value={ctx.body!r}, input_type=dict]\n"
                "    For further information visit https://errors.pydantic.dev/2.12/v/value_error"
            )
        conv.name = name
        return wire.ok(conv.to_dict())

    def messages(self, ctx: Ctx):
        if (bad := self._chat_only(ctx)) is not None:
            return bad
        q = ctx.request.query
        limit = wire.bounded_int(q.get("limit"), 20, 1, 100)
        if "conversation_id" not in q:
            raise pydantic_error(
                "MessageListQuery", [("conversation_id", "Field required", "missing", dict(q))]
            )
        if not q["conversation_id"]:
            return wire.ok({"limit": limit, "has_more": False, "data": []})
        conv = self.state.conversation(ctx.app_id, ctx.user, q["conversation_id"])
        if conv is None:
            return wire.not_found("Conversation Not Exists.", "/v1/messages")
        msgs = conv.messages
        first_id = q.get("first_id")
        if first_id:
            ids = [m.id for m in msgs]
            if first_id not in ids:
                return wire.not_found("First Message Not Exists.", "/v1/messages")
            msgs = msgs[: ids.index(first_id)]
        page = msgs[-limit:]
        return wire.ok({"limit": limit, "has_more": len(msgs) > limit, "data": [m.to_dict() for m in page]})

    def _own_message(self, ctx: Ctx, mid: str):
        msg = self.state.messages.get(mid)
        if msg is None:
            return None
        conv = self.state.conversations.get(msg.conversation_id)
        if conv is None or conv.app_id != ctx.app_id or conv.user != ctx.user:
            return None
        return msg

    def feedback(self, ctx: Ctx):
        msg = self._own_message(ctx, ctx.params["mid"])
        if msg is None:
            return wire.error(404, "not_found", "Message Not Exists.")
        rating = ctx.body.get("rating")
        if rating is None:
            if msg.feedback is None:
                raise ValueError("rating cannot be None when feedback not exists")
            msg.feedback = None
        else:
            msg.feedback = {"rating": rating}
        return wire.ok({"result": "success"})

    def suggested(self, ctx: Ctx):
        if (bad := self._chat_only(ctx)) is not None:
            return bad
        if self._own_message(ctx, ctx.params["mid"]) is None:
            return wire.error(404, "not_found", "Message Not Exists.")
        return wire.error(400, "bad_request", "Suggested Questions Is Disabled.")

    # --- files ----------------------------------------------------------------------------------

    def upload(self, ctx: Ctx):
        return self.store_upload(
            ctx.request,
            created_by=lambda user: self.state.end_user_id(ctx.app_id, user),
            tenant_id="7d0e8f3a-2c1b-4e5d-9a6f-6469667974e1",
        )

    def store_upload(self, request: Request, created_by: Callable[[str], str], tenant_id: str):
        """``/files/upload`` for both APIs; ``created_by`` maps the form's user to the owner id."""
        ctype = request.headers.get("content-type", "")
        files, fields = _parse_multipart(ctype, request.body)
        if "file" not in [name for name, *_ in files]:
            return wire.error(400, "no_file_uploaded", "Please upload your file.")
        if len(files) > 1:
            return wire.error(400, "too_many_files", "Only one file is allowed.")
        _, filename, mime, data = files[0]
        if not filename:
            return wire.error(400, "filename_not_exists_error", "The specified filename does not exist.")
        if not mime:
            return wire.error(415, "unsupported_file_type", "File type not allowed.")
        if "/" in filename or "\\" in filename:
            raise ValueError("Filename contains invalid characters")
        limit = _SIZE_LIMITS_MB.get(file_type_for(filename), 15)
        if len(data) > limit * 1024 * 1024:
            return wire.error(413, "file_too_large", "")
        user = fields.get("user") or "DEFAULT-USER"
        file_id = self.state.ids.new("upload")
        ts = now()
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        record = {
            "id": file_id,
            "reference": None,
            "name": filename,
            "size": len(data),
            "extension": ext,
            "mime_type": mime,
            "created_by": created_by(user),
            "created_at": ts,
            "preview_url": None,
            "source_url": f"http://127.0.0.1/files/{file_id}/file-preview?timestamp={ts}"
            f"&nonce=0d6a3c9e1f2b4a58&sign=c2ltdWxhdGVk",
            "original_url": None,
            "user_id": None,
            "tenant_id": tenant_id,
            "conversation_id": None,
            "file_key": None,
        }
        self.state.uploads[file_id] = {**record, "user": user, "data": data}
        return wire.ok(record, status=201)


def _parse_multipart(content_type: str, body: bytes):
    """([(field, filename, mime, bytes)], {field: text}) via the stdlib email parser."""
    if not content_type.lower().startswith("multipart/form-data"):
        return [], {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    files, fields = [], {}
    if not msg.is_multipart():
        return [], {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if filename is None:
            fields[name] = payload.decode("utf-8", "replace")
            continue
        mime = part.get_content_type() if "content-type" in part else ""
        files.append((name, filename, mime, payload))
    return files, fields
