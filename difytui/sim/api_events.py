"""``GET /v1/workflow/:run_id/events``: re-attach to a workflow or chatflow run (facts 13–18, 30).

A finished run answers one ``workflow_finished`` rebuilt from its record (stdlib ``json.dumps``
spacing, no ping, A13/A14). Otherwise the listener subscribes here, synchronously, so no event
published between this handler and the first write is lost, and the server relays (:class:`Listen`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import wire
from .api_context import Ctx, wrong_mode
from .run_log import RunLog
from .runs import Stream

if TYPE_CHECKING:
    import asyncio

    from .api import Api

#: Dify's relay ends a listener after this long without an event (fact 15)
IDLE_TIMEOUT = 300.0


@dataclass
class Listen:
    """One ``/events`` stream: a finished run's single event, or a live relay with its replay."""

    finished: dict | None = None
    log: RunLog | None = None
    queue: asyncio.Queue[dict] | None = None
    replay: list[dict] = field(default_factory=list)
    snapshot: bool = False
    continue_on_pause: bool = False
    #: the replay ended with workflow_paused: without continue_on_pause the stream ends there (A22)
    replayed_pause: bool = False

    def ends_after(self, event: dict) -> bool:
        """Whether the relay closes after this live event (fact 18: continue_on_pause without a
        snapshot never closes, not even after workflow_finished, E05)."""
        kind = event.get("event")
        if kind == "workflow_paused":
            return not self.continue_on_pause
        if kind == "workflow_finished":
            return self.snapshot or not self.continue_on_pause
        return False


def finished_event(api: Api, ctx: Ctx, log: RunLog | None, wr: Any) -> dict:
    """The finished run's record as one workflow_finished (task_id = run id, no chat fields)."""
    created_by = {"id": api.state.end_user_id(ctx.app_id, wr.user), "user": wr.user}
    if log is not None and log.run.created_by is not None:
        created_by = log.run.created_by
    return {
        "event": "workflow_finished",
        "task_id": wr.id,
        "workflow_run_id": wr.id,
        "data": {
            "id": wr.id,
            "workflow_id": ctx.app["workflow_id"],
            "status": wr.status,
            "outputs": wr.outputs,
            "error": wr.error,
            "elapsed_time": wr.elapsed_time,
            "total_tokens": wr.total_tokens,
            "total_steps": wr.total_steps,
            "created_by": created_by,
            "created_at": wr.created_at,
            "finished_at": wr.finished_at,
            "exceptions_count": 1 if wr.status == "failed" else 0,
            "files": [],
        },
    }


def _flag(ctx: Ctx, name: str) -> bool:
    return ctx.request.query.get(name, "").lower() == "true"


def workflow_events(api: Api, ctx: Ctx) -> wire.Response | Stream:
    if (bad := wrong_mode(ctx, ("workflow", "advanced-chat"), "not_workflow_app")) is not None:
        return bad
    wr = api.state.workflow_runs.get(ctx.params["run_id"])
    if wr is None or wr.app_id != ctx.app_id or wr.user != ctx.user:
        return wire.error(404, "not_found", "Workflow run not found")
    return listen(api, ctx, wr)


def listen(api: Api, ctx: Ctx, wr: Any) -> Stream:
    """The stream for a run the caller may see (both APIs)."""
    log = api.state.run_logs.get(wr.id)
    if wr.finished_at is not None:
        return Stream(listen=Listen(finished=finished_event(api, ctx, log, wr)))
    assert log is not None  # an unfinished run is one this simulator is running or holding
    snapshot = _flag(ctx, "include_state_snapshot")
    out = Listen(
        log=log,
        queue=log.subscribe(),
        snapshot=snapshot,
        continue_on_pause=_flag(ctx, "continue_on_pause"),
    )
    if snapshot:
        out.replay = log.replay()
        out.replayed_pause = log.paused
    return Stream(listen=out)
