"""Fold one run's stream into a :class:`TurnResult`: answer, outputs, status, timing, usage, nodes, ids.

Per the bench's settled semantics: latency runs from sending the request to the terminal event,
first-token to the first answer or text event; tokens and cost come from ``message_end``'s usage
(chat, chatflow, completion) or, for workflows, ``workflow_finished.total_tokens`` and the sum of
the nodes' ``total_price``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from difytui.bench.model import NodeRun, TurnResult
from difytui.models import run_status

_ANSWER_EVENTS = frozenset({"message", "agent_message"})
_TERMINAL_EVENTS = frozenset({"message_end", "workflow_finished", "workflow_paused", "error"})


def fold_event(turn: TurnResult, event: dict[str, Any], started: float) -> str | None:
    """Add ``event`` to ``turn`` (``started``: ``time.monotonic()`` when the request was sent).

    Returns the error of a streamed ``error`` event (Dify's code and message), else None."""
    kind = event.get("event")
    now = time.monotonic() - started
    _ids(turn, event)
    if kind in _ANSWER_EVENTS or kind == "text_chunk":
        if turn.first_token_s is None:
            turn.first_token_s = now
        if kind in _ANSWER_EVENTS:
            turn.answer += _text(event.get("answer"))
    elif kind == "message_replace":
        turn.answer = _text(event.get("answer"))
    elif kind == "message_end":
        # A chatflow's workflow_finished, after it, has the final say on the status.
        turn.status = "succeeded"
        usage = _dict(_dict(event.get("metadata")).get("usage"))
        turn.tokens = _int(usage.get("total_tokens"))
        turn.cost = _float(usage.get("total_price"))
    elif kind == "node_finished":
        data = _dict(event.get("data"))
        price = _float(_dict(data.get("execution_metadata")).get("total_price"))
        turn.nodes.append(NodeRun(_text(data.get("title")), _text(data.get("status")), price))
    elif kind == "workflow_finished":
        _finished(turn, _dict(event.get("data")))
    elif kind == "workflow_paused":
        turn.status = "paused"
    if kind in _TERMINAL_EVENTS and turn.latency_s is None:
        turn.latency_s = now
    if kind == "error":
        code = _text(event.get("code"))
        message = _text(event.get("message")) or "the stream ended with an error event"
        turn.error = f"{code}: {message}" if code else message
        return turn.error
    return None


def _finished(turn: TurnResult, data: dict[str, Any]) -> None:
    turn.status = run_status(data)
    error = data.get("error")
    if error:
        turn.error = _text(error)
    if turn.workflow_run_id is None and isinstance(data.get("id"), str):
        turn.workflow_run_id = data["id"]
    outputs = data.get("outputs")
    if "answer" in _dict(outputs) or turn.conversation_id is not None:
        return  # a chatflow: its answer and message_end's usage are what counts
    turn.outputs = outputs if isinstance(outputs, dict) else {}
    turn.tokens = _int(data.get("total_tokens"))
    prices = [node.price for node in turn.nodes if node.price is not None]
    turn.cost = sum(prices) if prices else None


def _ids(turn: TurnResult, event: dict[str, Any]) -> None:
    for key, attr in (
        ("task_id", "task_id"),
        ("conversation_id", "conversation_id"),
        ("message_id", "message_id"),
        ("workflow_run_id", "workflow_run_id"),
    ):
        value = event.get(key)
        if isinstance(value, str) and value and getattr(turn, attr) is None:
            setattr(turn, attr, value)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _float(value)
    return int(number) if number is not None else None


def _float(value: object) -> float | None:
    """A number, or a number in a string (Dify sends prices as ``"0.0000840"``); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None
