"""What a Service API handler receives (:class:`Ctx`) and the app-mode checks its routes share."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import wire
from .runs import CHAT_MODES

if TYPE_CHECKING:
    from .server import Request

_MODE_MSG = "Please check if your app mode matches the right API route."
#: error code → message of Dify's answer to a key whose app has another mode than the route serves
_WRONG_MODE = {
    "not_chat_app": _MODE_MSG,
    "not_workflow_app": _MODE_MSG,
    "app_unavailable": "App unavailable, please check your app configurations.",
}


@dataclass
class Ctx:
    """One request on its way through the checks: the key's app and the caller's ``user``."""

    request: Request
    params: dict[str, str]
    app_id: str = ""
    #: the key's app definition (left empty only on the public index route)
    app: dict = field(default_factory=dict)
    body: Any = None
    user: str = "DEFAULT-USER"


def wrong_mode(ctx: Ctx, allowed: Collection[str], code: str) -> wire.Response | None:
    """The 400 Dify answers when the app's mode is not in ``allowed`` (None: the route serves it)."""
    if ctx.app["mode"] in allowed:
        return None
    return wire.error(400, code, _WRONG_MODE[code])


def not_chat(ctx: Ctx) -> wire.Response | None:
    """The check of every chat-only route (messages, conversations, chat and its stop)."""
    return wrong_mode(ctx, CHAT_MODES, "not_chat_app")
