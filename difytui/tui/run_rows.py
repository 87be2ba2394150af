"""The Runs view's rows: a local run record or one of Dify's server-side workflow runs, as cells.

No widgets: plain data and Rich ``Text`` (server text always through :mod:`.safe_text`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from difytui.history import WorkflowRunDetail, WorkflowRunSummary
from difytui.run_records import RunRecord
from difytui.tui.safe_text import one_line

COLUMNS = ("", "status", "when", "latency", "tokens", "run")
#: status → (mark, style), as the pane's timeline shows them
STATUS_MARKS = {
    "succeeded": ("✓", "green"),
    "partial-succeeded": ("✓", "yellow"),
    "failed": ("✗", "bold red"),
    "stopped": ("■", "magenta"),
    "paused": ("‖", "yellow"),
    "unfinished": ("…", "dim"),
}
#: the status filter's steps (s cycles through them; None: every status)
STATUS_FILTERS: tuple[str | None, ...] = (None, "succeeded", "failed", "stopped", "partial-succeeded")
MARK = "◆"
SERVER = "server"


@dataclass
class RunRow:
    """One row: ``key`` is ``r:<record id>`` for a local record, ``s:<run id>`` for a server run."""

    key: str
    started: float
    status: str
    elapsed: float | None
    tokens: int | None
    text: str
    record: RunRecord | None = None
    server: WorkflowRunSummary | None = None


def local_row(record: RunRecord) -> RunRow:
    return RunRow(
        f"r:{record.id}",
        record.started,
        record.status,
        record.elapsed,
        record.total_tokens,
        gist(record),
        record=record,
    )


def server_row(summary: WorkflowRunSummary) -> RunRow:
    text = summary.error or f"{summary.total_steps} steps" + (
        f" · by {summary.session_id}" if summary.session_id else " · from Dify's web app or console"
    )
    return RunRow(
        f"s:{summary.id}",
        summary.created_at,
        summary.status,
        summary.elapsed_time,
        summary.total_tokens,
        text,
        server=summary,
    )


def gist(record: RunRecord) -> str:
    """The first words of what was asked and answered (else the inputs and outputs, or the error)."""
    asked = record.query or _values(record.inputs)
    answered = record.answer or (_values(record.outputs) if record.outputs else "") or record.error or ""
    return f"{asked} → {answered}" if asked and answered else asked or answered


def _values(data: dict[str, Any] | None) -> str:
    parts = [v if isinstance(v, str) else str(v) for v in (data or {}).values() if v not in (None, "")]
    return ", ".join(parts)[:200]


def matches(row: RunRow, status: str | None, text: str) -> bool:
    """A server row against the filters (local rows are filtered by the database's query)."""
    if status is not None and row.status != status:
        return False
    return not text or text.lower() in f"{row.text} {row.key}".lower()


def when(started: float, now: float | None = None) -> str:
    """``14:03:07`` today, else ``11-29 14:03``."""
    if not started:
        return "—"
    local = time.localtime(started)
    today = time.localtime(now if now is not None else time.time())
    if local[:3] == today[:3]:
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%m-%d %H:%M", local)


def cells(row: RunRow, marked: bool, now: float | None = None) -> tuple[Text, ...]:
    mark, style = STATUS_MARKS.get(row.status, ("?", "yellow"))
    status = Text(f"{mark} {one_line(row.status)}", style=style)
    run = Text()
    if row.server is not None:
        run.append(f"{SERVER} ", style="bold blue")
    run.append(one_line(row.text)[:120])
    return (
        Text(MARK if marked else " ", style="bold cyan"),
        status,
        Text(when(row.started, now)),
        Text("—" if row.elapsed is None else f"{row.elapsed:.2f}s", justify="right"),
        Text("—" if not row.tokens else str(row.tokens), justify="right"),
        run,
    )


def record_from_server(app_id: str, detail: WorkflowRunDetail) -> RunRecord:
    """A server run as a record (no events: Dify keeps none), for the detail view and comparing.
    Its inputs lose Dify's ``sys.*`` variables: a re-run sends the app's own inputs."""
    inputs = {k: v for k, v in detail.inputs.items() if not str(k).startswith("sys.")}
    return RunRecord(
        app_id,
        "workflow",
        detail.status or "unfinished",
        inputs,
        outputs=detail.outputs or None,
        error=detail.error,
        workflow_run_id=detail.id,
        started=detail.created_at,
        finished=detail.finished_at,
        elapsed=detail.elapsed_time,
        total_tokens=detail.total_tokens or None,
        event_count=0,
    )
