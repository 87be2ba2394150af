"""Service API history: list, rename and delete conversations; list messages, rate them.

Every route here sees only the caller's (``user``) conversations of the key's app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import wire
from .api_context import Ctx, not_chat
from .state import Conversation, Message
from .validation import pydantic_error

if TYPE_CHECKING:
    from .api import Api


def conversations(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := not_chat(ctx)) is not None:
        return bad
    q = ctx.request.query
    limit = wire.bounded_int(q.get("limit"), 20, 1, 100)
    sort_by = q.get("sort_by") or "-updated_at"
    key = "created" if "created_at" in sort_by else "updated"
    convs = [c for c in api.state.conversations.values() if c.app_id == ctx.app_id and c.user == ctx.user]
    convs.sort(key=lambda c: c.order[key], reverse=sort_by.startswith("-"))
    last_id = q.get("last_id")
    if last_id:
        ids = [c.id for c in convs]
        if last_id not in ids:
            return wire.not_found("Last Conversation Not Exists.", "/v1/conversations")
        convs = convs[ids.index(last_id) + 1 :]
    page = convs[:limit]
    return wire.ok({"limit": limit, "has_more": len(convs) > limit, "data": [c.to_dict() for c in page]})


def _path_conversation(api: Api, ctx: Ctx) -> Conversation | wire.Response:
    """The caller's conversation named in the path, or the answer that ends the request."""
    if (bad := not_chat(ctx)) is not None:
        return bad
    conv = api.state.conversation(ctx.app_id, ctx.user, ctx.params["cid"])
    return conv if conv is not None else wire.not_found("Conversation Not Exists.", "/v1/conversations")


def delete_conversation(api: Api, ctx: Ctx) -> wire.Response:
    conv = _path_conversation(api, ctx)
    if isinstance(conv, wire.Response):
        return conv
    del api.state.conversations[conv.id]
    return wire.Response(204, b"", None)


def rename_conversation(api: Api, ctx: Ctx) -> wire.Response:
    conv = _path_conversation(api, ctx)
    if isinstance(conv, wire.Response):
        return conv
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


def messages(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := not_chat(ctx)) is not None:
        return bad
    q = ctx.request.query
    limit = wire.bounded_int(q.get("limit"), 20, 1, 100)
    if "conversation_id" not in q:
        raise pydantic_error("MessageListQuery", [("conversation_id", "Field required", "missing", dict(q))])
    if not q["conversation_id"]:
        return wire.ok({"limit": limit, "has_more": False, "data": []})
    conv = api.state.conversation(ctx.app_id, ctx.user, q["conversation_id"])
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


def _own_message(api: Api, ctx: Ctx, mid: str) -> Message | None:
    msg = api.state.messages.get(mid)
    if msg is None:
        return None
    conv = api.state.conversations.get(msg.conversation_id)
    if conv is None or conv.app_id != ctx.app_id or conv.user != ctx.user:
        return None
    return msg


def feedback(api: Api, ctx: Ctx) -> wire.Response:
    msg = _own_message(api, ctx, ctx.params["mid"])
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


def suggested(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := not_chat(ctx)) is not None:
        return bad
    if _own_message(api, ctx, ctx.params["mid"]) is None:
        return wire.error(404, "not_found", "Message Not Exists.")
    return wire.error(400, "bad_request", "Suggested Questions Is Disabled.")
