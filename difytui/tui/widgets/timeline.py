"""The live node timeline of a workflow (or chatflow) run: one line per node, loops nested.

Node events are few (one per node start/finish), so each one re-renders the whole, small text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.widgets import Static

from difytui.tui.safe_text import one_line

_MARKS = {
    "running": ("●", "yellow"),
    "succeeded": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "exception": ("⚠", "red"),
    "stopped": ("■", "magenta"),
    "retry": ("↻", "yellow"),
    "partial-succeeded": ("✓", "yellow"),
}
_CONTAINERS = ("iteration", "loop")


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

    def render_text(self) -> Text:
        text = Text()
        for key in self.order:
            self._render_line(text, self.lines[key], 0)
        if not self.order:
            text.append("waiting for the first node…", style="dim italic")
        text.rstrip()
        return text

    def _render_line(self, text: Text, line: NodeLine, depth: int) -> None:
        mark, style = _MARKS.get(line.status, ("?", "white"))
        indent = "   " * depth
        prefix = f"#{line.round} " if line.round is not None else ""
        title = f"{indent}{prefix}{line.title}"
        text.append(f"{mark} ", style=style)
        text.append(f"{title[:30]:<30} ", style="bold" if depth == 0 else "")
        text.append(f"{line.node_type[:12]:<12} ", style="dim")
        if line.status == "running":
            progress = ""
            if line.current is not None:
                progress = f" {line.current}/{line.rounds}" if line.rounds else f" #{line.current}"
            text.append(f"running{progress}", style="yellow")
        else:
            text.append(f"{line.status:<10}", style=style)
            if line.elapsed is not None:
                text.append(f" {line.elapsed:7.2f}s")
        if line.tokens:
            text.append(f"  {line.tokens} tok", style="cyan")
        text.append("\n")
        if line.error:
            text.append(f"{indent}   {line.error}\n", style="red")
        for child in line.children:
            self._render_line(text, self.lines[child], depth + 1)

    def refresh_text(self) -> None:
        self.update(self.render_text())

    def on_mount(self) -> None:
        self.refresh_text()
