"""The line under the log after each run: timings, tokens, price and the ids worth copying."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from difytui.tui.safe_text import one_line

if TYPE_CHECKING:
    from difytui.tui.run_controller import ActiveRun


#: Dify's status for a run whose failed nodes were handled (error branches, "continue on error"):
#: a success with a warning, as the CLI (exit 0) has it; never the ✗ of a failure.
PARTIAL = "partial-succeeded"
PARTIAL_MARK = "⚠"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def stats_text(
    *,
    first_event: float | None,
    total: float | None,
    usage: dict[str, Any] | None = None,
    conversation_id: str | None = None,
    task_id: str | None = None,
    status: str = "",
    reconnects: int = 0,
) -> Text:
    usage = usage or {}
    parts: list[tuple[str, str]] = []
    if status == PARTIAL:
        parts.append((f"{PARTIAL_MARK} {status}", "bold yellow"))
    elif status:
        parts.append((status, "bold"))
    parts.append((f"first event {first_event:.2f}s" if first_event is not None else "no events", ""))
    if total is not None:
        parts.append((f"total {total:.2f}s", ""))
    if reconnects:  # the stream dropped and was re-attached to the run
        parts.append((f"reconnected {reconnects}×", "yellow"))
    tokens = usage.get("total_tokens")
    if isinstance(tokens, int):
        detail = ""
        if isinstance(usage.get("prompt_tokens"), int) and isinstance(usage.get("completion_tokens"), int):
            detail = f" ({usage['prompt_tokens']} in / {usage['completion_tokens']} out)"
        parts.append((f"{tokens} tokens{detail}", "cyan"))
    price = _number(usage.get("total_price"))
    if price is not None:
        parts.append((f"{price:.6f} {one_line(usage.get('currency') or '')}".strip(), "green"))
    if conversation_id:
        parts.append((f"conversation {one_line(conversation_id)}", ""))
    if task_id:
        parts.append((f"task {one_line(task_id)}", "dim"))
    text = Text()
    for i, (part, style) in enumerate(parts):
        if i:
            text.append(" · ", style="dim")
        text.append(part, style=style)
    return text


def upload_text(name: str, sent: int, total: int) -> Text:
    """A local file's upload, on its way or done (files over 1 MB: see tui/uploads.py)."""
    mb = 1024 * 1024
    text = Text()
    if sent >= total:
        text.append(f"uploaded {one_line(name)}", style="bold")
        text.append(f" · {total / mb:.1f} MB")
        return text
    text.append(f"uploading {one_line(name)}", style="bold")
    text.append(f" · {sent / mb:.1f} of {total / mb:.1f} MB ({sent * 100 // max(total, 1)}%)")
    return text


class StatsLine(Static):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)

    def show_stats(self, **values: Any) -> None:
        self.update(stats_text(**values))
        self.display = True

    def show_upload(self, name: str, sent: int, total: int) -> None:
        self.update(upload_text(name, sent, total))
        self.display = True

    def show_run(
        self,
        run: ActiveRun,
        status: str,
        finished_at: float,
        first_event_at: float | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        """The figures of a run that ended (times relative to its start)."""
        first = first_event_at if first_event_at is not None else run.first_event_at
        self.show_stats(
            status=status,
            first_event=(first - run.started_at) if first is not None else None,
            total=finished_at - run.started_at,
            usage=usage or {},
            conversation_id=run.conversation_id,
            task_id=run.task_id,
            reconnects=run.reconnects,
        )
