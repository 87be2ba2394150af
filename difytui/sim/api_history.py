"""Service API history: list, rename and delete conversations; list messages, rate them.

Every route here sees only the caller's (``user``) conversations of the key's app.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import wire
from .api_context import Ctx, not_chat
from .state import Conversation, Feedback, Message
from .validation import pydantic_error

_SORTS = ("created_at", "-created_at", "updated_at", "-updated_at")
_RATINGS = ("like", "dislike")
_FLASK_500 = (
    "The server encountered an internal error and was unable to complete your request. Either the server "
    "is overloaded or there is an error in the application."
)


def _limit(raw: str | None, model: str, default: int = 20, hi: int = 100) -> int:
    """``limit`` as Dify's query models check it: above ``hi`` is a pydantic 400, not a clamp."""
    value = wire.bounded_int(raw, default, -(10**9), 10**9)
    if value > hi:
        raise pydantic_error(
            model, [("limit", f"Input should be less than or equal to {hi}", "less_than_equal", raw)]
        )
    if value < 1:
        raise pydantic_error(
            model, [("limit", "Input should be greater than or equal to 1", "greater_than_equal", raw)]
        )
    return value


if TYPE_CHECKING:
    from .api import Api


def conversations(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := not_chat(ctx)) is not None:
        return bad
    q = ctx.request.query
    limit = _limit(q.get("limit"), "ConversationListQuery")
    sort_by = q.get("sort_by") or "-updated_at"
    if sort_by not in _SORTS:
        raise pydantic_error(
            "ConversationListQuery",
            [("sort_by", "Input should be " + _literals(_SORTS), "literal_error", sort_by)],
        )
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


def _literals(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _path_conversation(api: Api, ctx: Ctx) -> Conversation | wire.Response:
    """The caller's conversation named in the path, or the answer that ends the request."""
    if (bad := not_chat(ctx)) is not None:
        return bad
    conv = api.state.conversation(ctx.app_id, ctx.user, ctx.params["cid"])
    # the URI is not /v1/conversations, so flask-restx adds no "did you mean" here (B33, B36)
    return conv if conv is not None else wire.error(404, "not_found", "Conversation Not Exists.")


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
        # Dify swallows the naming model's errors; with no model (as here, and in the captures, B31)
        # the name stays what it was
        return wire.ok(conv.to_dict())
    if not isinstance(name, str) or not name.strip():
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
    limit = _limit(q.get("limit"), "MessageListQuery")
    if "conversation_id" not in q:
        raise pydantic_error("MessageListQuery", [("conversation_id", "Field required", "missing", dict(q))])
    if not q["conversation_id"]:
        return wire.ok({"limit": limit, "has_more": False, "data": []})
    conv = api.state.conversation(ctx.app_id, ctx.user, q["conversation_id"])
    if conv is None:
        return wire.not_found("Conversation Not Exists.", "/v1/messages")
    # Dify orders by created_at (whole seconds) only: inside one second the order is the database's
    # whim (P01, P03) — here the id's, which is stable but not the order of creation
    msgs = sorted(conv.messages, key=lambda m: (m.created_at, m.id), reverse=True)
    first_id = q.get("first_id")
    if first_id:
        first = next((m for m in msgs if m.id == first_id), None)
        if first is None:
            return wire.not_found("First Message Not Exists.", "/v1/messages")
        # ``created_at < created_at(first)``: the rest of first's second is out of reach (P05/P06)
        msgs = [m for m in msgs if m.created_at < first.created_at]
    page = msgs[:limit][::-1]
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
    if rating is not None and rating not in _RATINGS:
        raise pydantic_error(
            "MessageFeedbackPayload",
            [("rating", "Input should be " + _literals(_RATINGS), "literal_error", rating)],
        )
    content = ctx.body.get("content")
    state = api.state
    existing = next((f for f in state.feedbacks if f.message_id == msg.id), None)
    if rating is None:
        if existing is None:
            raise ValueError("rating cannot be None when feedback not exists")
        state.feedbacks.remove(existing)
        msg.feedback = None
    elif existing is not None:
        # re-posting overwrites the rating and the content (an omitted content becomes null, B74)
        existing.rating, existing.content = rating, content
        existing.updated_at = time.time()
        msg.feedback = {"rating": rating}
    else:
        state.feedbacks.append(
            Feedback(
                id=state.ids.new("feedback"),
                app_id=ctx.app.get("uuid", ctx.app_id),
                conversation_id=msg.conversation_id,
                message_id=msg.id,
                end_user_id=state.end_user_id(ctx.app_id, ctx.user),
                rating=rating,
                content=content,
            )
        )
        msg.feedback = {"rating": rating}
    return wire.ok({"result": "success"})


def app_feedbacks(api: Api, ctx: Ctx) -> wire.Response:
    """``{"data": […]}`` newest first, paged by page number, without total or has_more (B72, B86)."""
    q = ctx.request.query
    page = wire.bounded_int(q.get("page"), 1, 1, 99999)
    limit = _limit(q.get("limit"), "FeedbackListQuery", 20, 101)
    mine = [f for f in reversed(api.state.feedbacks) if f.app_id == ctx.app.get("uuid", ctx.app_id)]
    return wire.ok({"data": [f.to_dict() for f in mine[(page - 1) * limit : page * limit]]})


def suggested(api: Api, ctx: Ctx) -> wire.Response:
    if (bad := not_chat(ctx)) is not None:
        return bad
    if _own_message(api, ctx, ctx.params["mid"]) is None:
        return wire.error(404, "not_found", "Message Not Exists.")
    feature = ctx.app["parameters"].get("suggested_questions_after_answer") or {}
    if not feature.get("enabled"):
        return wire.error(400, "bad_request", "Suggested Questions Is Disabled.")
    questions = ctx.app.get("suggested_by_model")
    if questions is None:
        # on, but no model answers: Flask's own 500, not the simulator's catch-all one (B89)
        return wire.error(500, "internal_server_error", _FLASK_500)
    return wire.ok({"result": "success", "data": list(questions)})
