"""The live node timeline of a workflow (or chatflow) run: one line per node, loops nested.

Node events are few (one per node start/finish), so each one re-renders the whole, small text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.widgets import Static

from difytui.tui.safe_text import one_line

_MARKS = {
    "running": ("●", "yellow"),
    "succeeded": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "exception": ("⚠", "red"),
    "stopped": ("■", "magenta"),
    "paused": ("‖", "yellow"),  # a Human Input node waiting for its form
    "retry": ("↻", "yellow"),
    "partial-succeeded": ("✓", "yellow"),
}
_CONTAINERS = ("iteration", "loop")
_TITLE_WIDTH = 30
_MIN_TITLE = 12
_TYPE_WIDTH = 13  # the node type and its space


def _fit(title: str, width: int) -> str:
    return f"{title:<{width}}" if len(title) <= width else title[: width - 1] + "…"


@dataclass
class NodeLine:
    key: str
    node_id: str
    title: str
    node_type: str
    status: str = "running"
    elapsed: float | None = None
    tokens: int | None = None
    error: str = ""
    parent: str | None = None  # the iteration/loop node this one runs inside
    round: int | None = None  # which iteration/loop round
    rounds: int | None = None  # for iterations: how many items
    current: int | None = None
    children: list[str] = field(default_factory=list)


def _tokens(data: dict[str, Any]) -> int | None:
    meta = data.get("execution_metadata") or {}
    value = meta.get("total_tokens") if isinstance(meta, dict) else None
    value = value if value is not None else data.get("total_tokens")
    return value if isinstance(value, int) and value > 0 else None


class NodeTimeline(Static):
    """Reacts to graph events; ``lines`` is the model, the text is derived from it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.lines: dict[str, NodeLine] = {}
        self.order: list[str] = []
        self.containers: dict[str, str] = {}  # iteration/loop node_id → key

    def _line_for(self, data: dict[str, Any], kind: str) -> NodeLine:
        is_container = kind.startswith(_CONTAINERS)
        node_id = str(data.get("node_id") or data.get("id") or "?")
        key = f"c:{node_id}" if is_container else str(data.get("id") or node_id)
        line = self.lines.get(key)
        if line is None:
            parent = data.get("iteration_id") or data.get("loop_id")
            parent_key = self.containers.get(str(parent)) if parent else None
            line = NodeLine(
                key=key,
                node_id=node_id,
                title=one_line(data.get("title")) or node_id,
                node_type=one_line(data.get("node_type")) or ("iteration" if is_container else "?"),
                parent=parent_key,
            )
            if parent_key:
                container = self.lines[parent_key]
                line.round = container.current
                container.children.append(key)
            else:
                self.order.append(key)
            self.lines[key] = line
            if is_container:
                self.containers[node_id] = key
        return line

    def apply(self, event: dict[str, Any]) -> None:
        kind = str(event.get("event") or "")
        data = event.get("data") or {}
        if not isinstance(data, dict) or kind in ("workflow_started", "agent_log"):
            return
        line = self._line_for(data, kind)
        if kind.endswith("_started"):
            line.status = "running"
            meta = data.get("metadata") or {}
            length = meta.get("iterator_length") if isinstance(meta, dict) else None
            if isinstance(length, int):
                line.rounds = length
        elif kind.endswith("_next"):
            index = data.get("index")
            line.current = index + 1 if isinstance(index, int) else (line.current or 0) + 1
        elif kind in ("node_finished", "node_retry") or kind.endswith("_completed"):
            status = str(data.get("status") or ("retry" if kind == "node_retry" else "succeeded"))
            line.status = status
            elapsed = data.get("elapsed_time")
            line.elapsed = float(elapsed) if isinstance(elapsed, (int, float)) else None
            line.tokens = _tokens(data)
            line.error = one_line(data.get("error")) if data.get("error") else ""
        self.refresh_text()

    def finish(self, status: str) -> None:
        """The run ended: nodes still 'running' were cut short."""
        for line in self.lines.values():
            if line.status == "running":
                line.status = "failed" if status == "failed" else "stopped"
        self.refresh_text()

    def render_text(self, width: int = 0) -> Text:
        """One row per node, cut to ``width`` columns (0: as wide as it takes); errors wrap.

        Narrow, the title column gives up room first (down to 12 columns), then the node type
        column goes, then the rows' ends are cut: no row wraps."""
        rows = [(line, depth, self._tail(line)) for line, depth in self._walk(self.order, 0)]
        if not rows:
            return Text("waiting for the first node…", style="dim italic")
        tail_width = max(tail.cell_len for _line, _depth, tail in rows)
        room = width - 2 - 1 - tail_width if width else _TITLE_WIDTH + _TYPE_WIDTH
        show_type = room - _TYPE_WIDTH >= _MIN_TITLE
        title_width = max(_MIN_TITLE, min(_TITLE_WIDTH, room - (_TYPE_WIDTH if show_type else 0)))
        text = Text()
        for line, depth, tail in rows:
            mark, style = _MARKS.get(line.status, ("?", "white"))
            indent = "   " * depth
            prefix = f"#{line.round} " if line.round is not None else ""
            row = Text()
            row.append(f"{mark} ", style=style)
            row.append(f"{_fit(indent + prefix + line.title, title_width)} ", style="" if depth else "bold")
            if show_type:
                row.append(f"{line.node_type[:12]:<12} ", style="dim")
            row.append_text(tail)
            if width:
                row.truncate(width, overflow="ellipsis")
            text.append_text(row)
            text.append("\n")
            if line.error:
                text.append(f"{indent}   {line.error}\n", style="red")
        text.rstrip()
        return text

    def _walk(self, keys: list[str], depth: int) -> Iterator[tuple[NodeLine, int]]:
        for key in keys:
            line = self.lines[key]
            yield line, depth
            yield from self._walk(line.children, depth + 1)

    @staticmethod
    def _tail(line: NodeLine) -> Text:
        """Status, time and tokens: the end of a node's row."""
        _mark, style = _MARKS.get(line.status, ("?", "white"))
        tail = Text()
        if line.status == "running":
            progress = ""
            if line.current is not None:
                progress = f" {line.current}/{line.rounds}" if line.rounds else f" #{line.current}"
            tail.append(f"running{progress}", style="yellow")
        else:
            tail.append(f"{line.status:<10}", style=style)
            if line.elapsed is not None:
                tail.append(f" {line.elapsed:7.2f}s")
        if line.tokens:
            tail.append(f"  {line.tokens} tok", style="cyan")
        return tail

    def refresh_text(self) -> None:
        self.update(_FittedRows(self))

    def on_mount(self) -> None:
        self.refresh_text()


class _FittedRows:
    """The timeline's text, built for the width Rich measures and renders it at (no row wraps)."""

    def __init__(self, timeline: NodeTimeline) -> None:
        self.timeline = timeline

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.timeline.render_text(options.max_width)
