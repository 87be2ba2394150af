"""The Service API (``/v1``): its routes, the checks before any handler, and the task bookkeeping.

``Api.dispatch`` turns a parsed request into a :class:`~.wire.Response` or a :class:`~.runs.Stream`
that the server writes; it never touches sockets. Order of checks follows Flask + Dify: routing
(HTML 404 / JSON 405) → token → JSON body → ``user`` → handler (mode → payload → inputs). The
handlers live by area: :mod:`.api_runs` (generation, workflow records), :mod:`.api_stop`,
:mod:`.api_history` (conversations and messages) and :mod:`.uploads`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import api_events, api_history, api_runs, api_stop, human_input, uploads, wire
from .api_context import Ctx
from .apps import ALL_APPS, info_body, parameters_body, site_body
from .runs import CHAT_MODES, Run, Stream
from .state import State

if TYPE_CHECKING:
    from .human_input import Form
    from .run_log import RunLog
    from .server import Request

__all__ = ["CHAT_MODES", "ROUTES", "Api", "Ctx", "Stream"]

Handler = Callable[["Api", Ctx], "wire.Response | Stream"]
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


# --- metadata -----------------------------------------------------------------------------------


def index(api: Api, ctx: Ctx) -> wire.Response:
    return wire.ok({"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": wire.SERVER_VERSION})


def info(api: Api, ctx: Ctx) -> wire.Response:
    return wire.ok(info_body(ctx.app))


def parameters(api: Api, ctx: Ctx) -> wire.Response:
    return wire.ok(parameters_body(ctx.app))


def meta(api: Api, ctx: Ctx) -> wire.Response:
    icons = {}
    if ctx.app["mode"] == "agent-chat":
        icons = {"web_search": {"background": "#252525", "content": "🔎"}}
    return wire.ok({"tool_icons": icons})


def site(api: Api, ctx: Ctx) -> wire.Response:
    return wire.ok(site_body(ctx.app))


# --- routes -------------------------------------------------------------------------------------


def _route(pattern: str, **methods: tuple[Handler, str | None]) -> tuple[re.Pattern[str], dict]:
    """methods: HTTP method → (handler, user source: json | json? | query | query! | form | public | None)."""
    return re.compile(pattern + r"\Z"), methods


ROUTES = [
    _route(r"/v1/?", GET=(index, "public")),
    _route(r"/v1/info", GET=(info, None)),
    _route(r"/v1/parameters", GET=(parameters, None)),
    _route(r"/v1/meta", GET=(meta, None)),
    _route(r"/v1/site", GET=(site, None)),
    _route(r"/v1/chat-messages", POST=(api_runs.chat, "json")),
    _route(r"/v1/chat-messages/(?P<task_id>[^/]+)/stop", POST=(api_stop.stop_chat, "json")),
    _route(r"/v1/completion-messages", POST=(api_runs.completion, "json")),
    _route(r"/v1/completion-messages/(?P<task_id>[^/]+)/stop", POST=(api_stop.stop_completion, "json")),
    _route(r"/v1/workflows/run", POST=(api_runs.workflow_run, "json")),
    _route(r"/v1/workflows/tasks/(?P<task_id>[^/]+)/stop", POST=(api_stop.stop_workflow, "json")),
    _route(r"/v1/workflows/run/(?P<run_id>[^/]+)", GET=(api_runs.get_workflow_run, None)),
    _route(r"/v1/workflows/logs", GET=(api_runs.workflow_logs, None)),
    _route(r"/v1/workflows/(?P<workflow_id>[^/]+)/run", POST=(api_runs.workflow_run, "json")),
    _route(r"/v1/conversations", GET=(api_history.conversations, "query")),
    _route(rf"/v1/conversations/(?P<cid>{_UUID})", DELETE=(api_history.delete_conversation, "json?")),
    _route(rf"/v1/conversations/(?P<cid>{_UUID})/name", POST=(api_history.rename_conversation, "json?")),
    _route(r"/v1/messages", GET=(api_history.messages, "query")),
    _route(rf"/v1/messages/(?P<mid>{_UUID})/feedbacks", POST=(api_history.feedback, "json")),
    _route(rf"/v1/messages/(?P<mid>{_UUID})/suggested", GET=(api_history.suggested, "query!")),
    _route(r"/v1/app/feedbacks", GET=(api_history.app_feedbacks, None)),
    _route(r"/v1/files/upload", POST=(uploads.upload, "form")),
    _route(r"/v1/workflow/(?P<run_id>[^/]+)/events", GET=(api_events.workflow_events, "query!")),
    _route(
        r"/v1/form/human_input/(?P<token>[^/]+)",
        GET=(human_input.get_form, None),
        POST=(human_input.submit_form, "json"),
    ),
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
        #: task_id → how a test releases the run a ``hold`` fault holds now (events let through)
        self.held: dict[str, asyncio.Future[int]] = {}
        #: task ids whose stop request reached a running task.
        self.stopped_tasks: list[str] = []
        #: drives a resumed run's script on the server's loop (set by the server)
        self.resumer: Callable[[RunLog], None] | None = None

    def resume_run(self, form: Form, inputs: dict, action: str) -> None:
        """A submitted form resumes its run, asynchronously as Dify's Celery worker does (fact 12)."""
        log = self.state.run_logs[form.run.wf_run.id]
        log.submission = (form, inputs, action)
        if self.resumer is not None:
            self.resumer(log)

    def add_key(self, key: str, app_id: str) -> None:
        """A key created in the console works on /v1 from now on."""
        self.app_by_key[key] = app_id

    # --- tasks ----------------------------------------------------------------------------------

    def live_run(self, task_id: str) -> Run | None:
        """The task's run while it streams, or goes on after its client left."""
        return self.running.get(task_id) or self.detached.get(task_id)

    def stop_task(self, task_id: str, app_id: str, user: str | None = None) -> None:
        """Stop the app's task if it is still going (both APIs; either way Dify answers success).
        ``user``: only that end user's run, except a chatflow's (its graph engine does not check)."""
        run = self.live_run(task_id)
        if run is None:
            # a paused run: "success", and nothing changes until its form is submitted (fact 28)
            for log in self.state.run_logs.values():
                if log.run.task_id == task_id and log.paused and log.run.app_id == app_id:
                    log.stopped_while_paused = True
            return
        if run.app_id != app_id or run.finished:
            return
        if user is None or run.user == user or run.mode == "advanced-chat":
            run.stop()
            self.stopped_tasks.append(run.task_id)

    # --- dispatch -------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> wire.Response | Stream:
        found = wire.match_route(ROUTES, req)
        if isinstance(found, wire.Response):
            return found
        handler, user_src, params = found
        ctx = Ctx(req, params)

        def answer() -> wire.Response | Stream:
            early = self._prepare(ctx, user_src)
            return early if early is not None else handler(self, ctx)

        return wire.flask_errors(answer)

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
