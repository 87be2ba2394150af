"""A run's record from the events it received: status, inputs, query, answer or outputs, error,
ids, timing, tokens and cost (issue 11). Pure data; :mod:`difytui.run_records` stores it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .store import _plain

JSON = dict[str, Any]


@dataclass
class RunRecord:
    """A run's summary; ``events`` of a stored one come from :meth:`RunRecords.events`."""

    app_id: str
    interface: str
    status: str
    inputs: JSON
    query: str | None = None
    answer: str | None = None
    outputs: JSON | None = None
    error: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    task_id: str | None = None
    workflow_run_id: str | None = None
    started: float = 0.0
    finished: float | None = None
    #: seconds the server reports (workflow elapsed_time / message latency), else finished - started
    elapsed: float | None = None
    total_tokens: int | None = None
    total_price: str | None = None
    currency: str | None = None
    event_count: int = 0
    id: int | None = None
    ws: str = ""


def summarize(
    app_id: str,
    interface: str,
    inputs: Mapping[str, Any],
    events: Iterable[JSON],
    *,
    query: str | None = None,
    started: float = 0.0,
    finished: float | None = None,
    status: str | None = None,
) -> tuple[RunRecord, list[JSON]]:
    """The record of a run from the events it received (in order), and those events as a list.

    ``status``: what the caller knows when the stream did not say (``"stopped"``, ``"interrupted"``);
    a terminal event's status wins over it."""
    record = RunRecord(app_id, interface, status or "unfinished", _plain(dict(inputs)), query=query)
    record.started, record.finished = started, finished
    kept: list[JSON] = []
    answer: list[str] = []
    for event in events:
        kept.append(event)
        _absorb(record, event, answer)
    if answer:
        record.answer = "".join(answer)
    record.event_count = len(kept)
    if record.elapsed is None and finished is not None:
        record.elapsed = max(0.0, finished - started)
    return record, kept


def _absorb(record: RunRecord, event: JSON, answer: list[str]) -> None:
    for key in ("conversation_id", "message_id", "task_id", "workflow_run_id"):
        value = event.get(key)
        if isinstance(value, str) and value and getattr(record, key) is None:
            setattr(record, key, value)
    kind = event.get("event")
    data = _obj(event.get("data"))
    if kind in ("message", "agent_message") and isinstance(event.get("answer"), str):
        answer.append(event["answer"])
    elif kind == "message_replace" and isinstance(event.get("answer"), str):
        answer[:] = [event["answer"]]
    elif kind == "message_end":
        _usage(record, _obj(_obj(event.get("metadata")).get("usage")))
        if record.status == "unfinished":
            record.status = "succeeded"  # a chatflow's workflow_finished, after it, may say otherwise
    elif kind == "workflow_finished":
        status = data.get("status")
        record.status = status if isinstance(status, str) else record.status
        outputs = data.get("outputs")
        record.outputs = outputs if isinstance(outputs, dict) else record.outputs
        error = data.get("error")
        record.error = error if isinstance(error, str) and error else record.error
        if isinstance(data.get("elapsed_time"), (int, float)):
            record.elapsed = float(data["elapsed_time"])
        if isinstance(data.get("total_tokens"), int) and record.total_tokens is None:
            record.total_tokens = data["total_tokens"]
    elif kind == "workflow_paused":  # waiting for human input: it may go on later, elsewhere
        record.status = "paused"
    elif kind == "error":
        record.status = "failed"
        message = event.get("message")
        record.error = message if isinstance(message, str) else "error"


def _obj(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def _usage(record: RunRecord, usage: JSON) -> None:
    if isinstance(usage.get("total_tokens"), int):
        record.total_tokens = usage["total_tokens"]
    price = usage.get("total_price")
    if isinstance(price, (str, int, float)):
        record.total_price = str(price)
    if isinstance(usage.get("currency"), str):
        record.currency = usage["currency"]
    if isinstance(usage.get("latency"), (int, float)) and record.elapsed is None:
        record.elapsed = float(usage["latency"])
