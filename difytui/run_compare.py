"""Compare two recorded runs (issue 11, "Compare Runs"): inputs, nodes, outputs and totals.

Pure data: the console's compare screen and the exports format what :func:`compare_runs` returns.
The runs may come from two apps. Nodes are aligned by node id; a node that ran several times (inside
an iteration or a loop) is aligned by its node id and which execution it was (the 1st, the 2nd…),
so a run with one more iteration round shows that round as a node only the other run has.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .run_records import JSON, RunRecord

Side = Literal["left", "right"]
#: a node's time counts as different only past both bounds: elapsed times always wobble a little
SLOWER_RATIO = 1.5
SLOWER_SECONDS = 0.5
_MISSING = object()


@dataclass(frozen=True)
class InputChange:
    key: str
    kind: Literal["added", "removed", "changed"]
    left: Any = None
    right: Any = None


@dataclass
class NodeRun:
    """One execution of a node, from its ``node_started`` / ``node_finished`` (or the iteration's
    and loop's ``_started`` / ``_completed``) events."""

    node_id: str
    occurrence: int
    title: str
    node_type: str
    status: str = "unfinished"
    elapsed: float | None = None
    tokens: int | None = None
    price: Decimal | None = None
    outputs: Any = None
    error: str | None = None
    #: the finished event's data (inputs, outputs, process data…): what a run's detail view shows
    data: JSON = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.node_id, self.occurrence)


@dataclass(frozen=True)
class NodeRow:
    """A node of either run; ``differs`` names what differs (``only_left``/``only_right``, or
    ``status``, ``tokens``, ``outputs``, ``error``, ``elapsed``)."""

    node_id: str
    occurrence: int
    title: str
    node_type: str
    left: NodeRun | None
    right: NodeRun | None
    differs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.title if self.occurrence == 1 else f"#{self.occurrence} {self.title}"


@dataclass(frozen=True)
class Totals:
    elapsed: tuple[float | None, float | None]
    tokens: tuple[int | None, int | None]
    cost: tuple[Decimal | None, Decimal | None]
    currency: tuple[str | None, str | None]


@dataclass(frozen=True)
class Comparison:
    left_label: str
    right_label: str
    inputs: list[InputChange]
    nodes: list[NodeRow]
    #: what ``diff`` compares: the runs' outputs JSON, or their answer text
    diff_of: Literal["outputs", "answer"]
    diff: list[str]
    totals: Totals
    status: tuple[str, str] = ("", "")
    same_inputs: list[str] = field(default_factory=list)
    #: output key → a unified diff of its text, for the multi-line strings that differ (a report,
    #: an answer): in the JSON diff each is one long line with ``\n`` inside
    text_diffs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def differing_nodes(self) -> list[NodeRow]:
        return [row for row in self.nodes if row.differs]


def run_label(record: RunRecord) -> str:
    """``#12 report-builder`` (an unsaved record: just the app)."""
    return record.app_id if record.id is None else f"#{record.id} {record.app_id}"


def compare_runs(
    left: RunRecord,
    right: RunRecord,
    left_events: Iterable[JSON],
    right_events: Iterable[JSON],
    *,
    diffs: bool = True,
) -> Comparison:
    """``diffs=False``: without the outputs' diffs (empty), which :func:`with_diffs` adds later:
    on long outputs they are the slow part (difflib), so the console computes them off its thread."""
    left_nodes, right_nodes = node_runs(left_events), node_runs(right_events)
    changes, same = diff_inputs(left.inputs, right.inputs)
    totals = Totals(
        elapsed=(left.elapsed, right.elapsed),
        tokens=(_total_tokens(left, left_nodes), _total_tokens(right, right_nodes)),
        cost=(_total_cost(left, left_nodes), _total_cost(right, right_nodes)),
        currency=(left.currency, right.currency),
    )
    comparison = Comparison(
        run_label(left),
        run_label(right),
        changes,
        align_nodes(left_nodes, right_nodes),
        "outputs" if left.outputs is not None and right.outputs is not None else "answer",
        [],
        totals,
        status=(left.status, right.status),
        same_inputs=same,
    )
    return with_diffs(comparison, left, right) if diffs else comparison


def with_diffs(comparison: Comparison, left: RunRecord, right: RunRecord) -> Comparison:
    """``comparison`` with the unified diffs of the two runs' outputs (or answers) filled in."""
    names = (comparison.left_label, comparison.right_label)
    diff_of, diff = _output_diff(left, right, *names)
    texts = _text_diffs(left.outputs, right.outputs, *names)
    return replace(comparison, diff_of=diff_of, diff=diff, text_diffs=texts)


def diff_inputs(left: JSON, right: JSON) -> tuple[list[InputChange], list[str]]:
    """The keys added, removed and changed from ``left`` to ``right`` (sorted), and those equal."""
    changes: list[InputChange] = []
    same: list[str] = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key, _MISSING), right.get(key, _MISSING)
        if a is _MISSING:
            changes.append(InputChange(key, "added", right=b))
        elif b is _MISSING:
            changes.append(InputChange(key, "removed", left=a))
        elif a != b:
            changes.append(InputChange(key, "changed", a, b))
        else:
            same.append(key)
    return changes, same


def node_runs(events: Iterable[JSON]) -> list[NodeRun]:
    """The node executions of a run's events, in the order they started (a node that started and
    never finished, as in a stopped run, stays ``unfinished``): the comparison, the exports and a
    run's detail view all read a run's nodes from here."""
    runs: list[NodeRun] = []
    by_exec: dict[str, NodeRun] = {}
    seen: dict[str, int] = {}
    for event in events:
        kind = event.get("event")
        data = event.get("data")
        if not isinstance(kind, str) or not isinstance(data, dict) or kind == "workflow_started":
            continue
        started = kind in ("node_started", "iteration_started", "loop_started")
        finished = kind == "node_finished" or kind in ("iteration_completed", "loop_completed")
        if not (started or finished):
            continue
        node_id = _str(data.get("node_id")) or _str(data.get("id")) or "?"
        # containers send the same id on every event; a node execution has its own
        exec_id = f"{kind.split('_')[0]}:{_str(data.get('id')) or node_id}"
        if kind.startswith("node_"):
            # without an execution id a finished event ends its node's latest start
            exec_id = "node:" + (_str(data.get("id")) or node_id)
        run = by_exec.get(exec_id)
        if run is None or started:
            seen[node_id] = seen.get(node_id, 0) + 1
            run = NodeRun(
                node_id, seen[node_id], _str(data.get("title")) or node_id, _str(data.get("node_type"))
            )
            by_exec[exec_id] = run
            runs.append(run)
        if finished:
            _finish(run, data)
    return runs


def _finish(run: NodeRun, data: JSON) -> None:
    run.data = data
    run.title = _str(data.get("title")) or run.title
    run.status = _str(data.get("status")) or "succeeded"
    elapsed = data.get("elapsed_time")
    run.elapsed = (
        float(elapsed) if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else None
    )
    meta = data.get("execution_metadata")
    meta = meta if isinstance(meta, dict) else {}
    tokens = meta.get("total_tokens", data.get("total_tokens"))
    run.tokens = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None
    run.price = _decimal(meta.get("total_price"))
    run.outputs = data.get("outputs")
    error = data.get("error")
    run.error = error if isinstance(error, str) and error else None


def align_nodes(left: Sequence[NodeRun], right: Sequence[NodeRun]) -> list[NodeRow]:
    """One row per node of either run: the left run's order, with the nodes only the right run has
    placed after the node that preceded them there."""
    order = [run.key for run in left]
    left_by = {run.key: run for run in left}
    right_by = {run.key: run for run in right}
    previous: tuple[str, int] | None = None
    for run in right:
        if run.key not in left_by:
            at = order.index(previous) + 1 if previous is not None else 0
            order.insert(at, run.key)
        previous = run.key
    rows = []
    for key in order:
        a, b = left_by.get(key), right_by.get(key)
        some = a or b
        assert some is not None
        rows.append(NodeRow(key[0], key[1], some.title, some.node_type, a, b, _differences(a, b)))
    return rows


def _differences(a: NodeRun | None, b: NodeRun | None) -> tuple[str, ...]:
    if a is None:
        return ("only_right",)
    if b is None:
        return ("only_left",)
    found = []
    if a.status != b.status:
        found.append("status")
    if a.tokens != b.tokens:
        found.append("tokens")
    if a.outputs != b.outputs:
        found.append("outputs")
    if a.error != b.error:
        found.append("error")
    if a.elapsed is not None and b.elapsed is not None:
        fast, slow = sorted((a.elapsed, b.elapsed))
        if slow - fast >= SLOWER_SECONDS and slow >= fast * SLOWER_RATIO:
            found.append("elapsed")
    return tuple(found)


def _output_diff(
    left: RunRecord, right: RunRecord, left_name: str, right_name: str
) -> tuple[Literal["outputs", "answer"], list[str]]:
    """A unified diff of the outputs (sorted, indented JSON) when both runs have them, else of the
    answers."""
    if left.outputs is not None and right.outputs is not None:
        a, b = _json_lines(left.outputs), _json_lines(right.outputs)
        return "outputs", list(difflib.unified_diff(a, b, left_name, right_name, lineterm=""))
    a = (left.answer or _json_text(left.outputs)).splitlines()
    b = (right.answer or _json_text(right.outputs)).splitlines()
    return "answer", list(difflib.unified_diff(a, b, left_name, right_name, lineterm=""))


def _text_diffs(
    left: JSON | None, right: JSON | None, left_name: str, right_name: str
) -> dict[str, list[str]]:
    diffs: dict[str, list[str]] = {}
    for key in sorted(set(left or {}) & set(right or {})):
        a, b = (left or {})[key], (right or {})[key]
        if isinstance(a, str) and isinstance(b, str) and a != b and ("\n" in a or "\n" in b):
            names = (f"{left_name}: {key}", f"{right_name}: {key}")
            diffs[key] = list(difflib.unified_diff(a.splitlines(), b.splitlines(), *names, lineterm=""))
    return diffs


def _json_lines(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def _json_text(value: Any) -> str:
    return "" if value is None else "\n".join(_json_lines(value))


def _total_tokens(record: RunRecord, nodes: Sequence[NodeRun]) -> int | None:
    if record.total_tokens is not None:
        return record.total_tokens
    counted = [
        n.tokens for n in nodes if n.tokens is not None and not n.node_type.startswith(("iteration", "loop"))
    ]
    return sum(counted) if counted else None


def _total_cost(record: RunRecord, nodes: Sequence[NodeRun]) -> Decimal | None:
    """The run's price; a workflow's events carry none at the end, so its nodes' prices summed."""
    price = _decimal(record.total_price)
    if price is not None:
        return price
    prices = [n.price for n in nodes if n.price is not None]
    return sum(prices, Decimal(0)) if prices else None


# -- formatting shared by the screen and the exports -------------------------------------------


def show_seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}s"


def show_tokens(value: int | None) -> str:
    return "—" if value is None else str(value)


def show_cost(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f} {currency}" if currency else f"{value.normalize():f}"


def show_value(value: Any) -> str:
    """An input value on one line: JSON, so a string and a number stay distinguishable."""
    return json.dumps(value, ensure_ascii=False, default=str)


def delta(left: float | Decimal | None, right: float | Decimal | None) -> str:
    """``+0.25s`` (seconds: floats) / ``+64`` (tokens, cost): the right run against the left one;
    blank if either is unknown."""
    if left is None or right is None:
        return ""
    change = Decimal(str(right)) - Decimal(str(left))
    if isinstance(left, float) or isinstance(right, float):
        return f"{float(change):+.2f}s"
    return f"{change.normalize():+f}"


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
