"""A recorded run's node timeline: one entry per node execution, from its ``node_finished`` event
(iterations and loops from their ``_completed`` one); a node that started and never finished (a
stopped run) is listed as unfinished. No widgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
_STARTED = ("node_started", "iteration_started", "loop_started")
_FINISHED = ("node_finished", "iteration_completed", "loop_completed")
#: what the detail view shows of a finished node, in this order
DETAIL_KEYS = ("inputs", "outputs", "process_data", "error", "elapsed_time", "execution_metadata")


@dataclass
class NodeEntry:
    node_id: str
    title: str
    node_type: str
    status: str = "unfinished"
    elapsed: float | None = None
    tokens: int | None = None
    data: JSON = field(default_factory=dict)

    def detail(self) -> JSON:
        """The finished event's inputs, outputs, process data, error, time and tokens."""
        shown = {k: self.data[k] for k in DETAIL_KEYS if self.data.get(k) not in (None, "", {})}
        if self.tokens is not None and "execution_metadata" not in shown:
            shown["total_tokens"] = self.tokens
        return shown


def node_entries(events: list[JSON]) -> list[NodeEntry]:
    entries: list[NodeEntry] = []
    open_: dict[str, NodeEntry] = {}
    for event in events:
        kind = event.get("event")
        data = event.get("data")
        if kind not in (*_STARTED, *_FINISHED) or not isinstance(data, dict):
            continue
        node_id = str(data.get("node_id") or data.get("id") or "?")
        exec_key = f"{str(kind).split('_')[0]}:{data.get('id') or node_id}"
        entry = open_.pop(exec_key, None) if kind in _FINISHED else None
        if entry is None:
            title = data.get("title")
            entry = NodeEntry(node_id, str(title) if title else node_id, str(data.get("node_type") or ""))
            entries.append(entry)
        if kind in _STARTED:
            open_[exec_key] = entry
            continue
        entry.data = data
        entry.title = str(data.get("title") or entry.title)
        entry.status = str(data.get("status") or "succeeded")
        elapsed = data.get("elapsed_time")
        entry.elapsed = float(elapsed) if isinstance(elapsed, (int, float)) else None
        meta = data.get("execution_metadata")
        tokens = (meta if isinstance(meta, dict) else {}).get("total_tokens", data.get("total_tokens"))
        entry.tokens = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None
    return entries
