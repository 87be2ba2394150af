"""Service API stop routes: each checks its app's mode, then :meth:`~.api.Api.stop_task`.

Dify answers success whether or not a running task was found; chat and completion stops only reach
the caller's own runs, a workflow stop any run of the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import wire
from .api_context import Ctx, not_chat, wrong_mode

if TYPE_CHECKING:
    from .api import Api


def _stop(api: Api, ctx: Ctx, bad: wire.Response | None, check_user: bool) -> wire.Response:
    if bad is not None:
        return bad
    api.stop_task(ctx.params["task_id"], ctx.app_id, ctx.user if check_user else None)
    return wire.ok({"result": "success"})


def stop_chat(api: Api, ctx: Ctx) -> wire.Response:
    return _stop(api, ctx, not_chat(ctx), check_user=True)


def stop_completion(api: Api, ctx: Ctx) -> wire.Response:
    return _stop(api, ctx, wrong_mode(ctx, ("completion",), "app_unavailable"), check_user=True)


def stop_workflow(api: Api, ctx: Ctx) -> wire.Response:
    return _stop(api, ctx, wrong_mode(ctx, ("workflow",), "not_workflow_app"), check_user=False)
