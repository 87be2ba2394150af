"""One run in detail: its summary, inputs, node timeline (each node's inputs, outputs, process data,
error, time and tokens as highlighted JSON, folded until opened), answer or outputs, raw events.

A local record has its full event stream; a server run (``GET /workflows/run/:id``) only what Dify
keeps: no events, so no timeline. From here: re-run with the same inputs, save as a test case, mark
for comparison (the console and the Runs view do the work: see :mod:`difytui.tui.runs_actions`),
export (:func:`difytui.tui.export_actions.export_run`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from difytui.run_compare import NodeRun, node_runs
from difytui.tui.keys import RUNS_BACK, RUNS_EXPAND, RUNS_EXPORT, RUNS_MARK, RUNS_RERUN, RUNS_SAVE_CASE
from difytui.tui.run_rows import STATUS_MARKS
from difytui.tui.safe_text import one_line
from difytui.tui.startup import styles_dir
from difytui.tui.widgets.json_section import JsonSection

if TYPE_CHECKING:
    from difytui.run_records import RunRecord


class RunHost(Protocol):
    """What the detail asks of the console (:class:`~difytui.tui.runs_actions.RunsActions`)."""

    def rerun_record(self, record: RunRecord) -> None: ...

    async def save_record_case(self, record: RunRecord) -> None: ...


class RunDetailScreen(ModalScreen[None]):
    """``record`` with its ``events`` (``server``: one of Dify's runs, which has none);
    ``mark``: called with the record when m is pressed (the Runs view's marks), if given."""

    CSS_PATH = styles_dir() / "runs.tcss"
    HELP_TITLE = "Run detail"
    BINDINGS: ClassVar[list[BindingType]] = [
        RUNS_RERUN,
        RUNS_SAVE_CASE,
        RUNS_MARK,
        RUNS_EXPAND,
        RUNS_EXPORT,
        RUNS_BACK,
    ]

    def __init__(
        self,
        record: RunRecord,
        events: list[dict[str, Any]],
        *,
        title: str = "",
        server: bool = False,
        mark: Any = None,
    ) -> None:
        super().__init__(id="run-detail")
        self.record = record
        self.events = events
        self.title_text = title or record.app_id
        self.server = server
        self.nodes: list[NodeRun] = node_runs(events)
        self._mark = mark

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="run-detail-title", markup=False)
        with VerticalScroll(id="run-detail-body"):
            yield Static(self._ids(), id="run-detail-ids", markup=False)
            record = self.record
            if record.query:
                yield JsonSection("Query", record.query, text=True, collapsed=False, id="run-query")
            yield JsonSection("Inputs", record.inputs, collapsed=False, id="run-inputs")
            if self.nodes:
                yield Static(Text(f"Nodes ({len(self.nodes)})", style="bold"), classes="run-heading")
                for number, node in enumerate(self.nodes):
                    yield JsonSection(
                        _node_title(node), node_detail(node), id=f"run-node-{number}", classes="run-node"
                    )
            elif self.server:
                note = "Dify keeps no events for its runs: no node timeline (a run recorded here has one)."
                yield Static(Text(note, style="italic dim"), classes="run-heading")
            if record.error:
                yield JsonSection("Error", record.error, text=True, collapsed=False, id="run-error")
            if record.outputs is not None:
                yield JsonSection("Outputs", record.outputs, collapsed=False, id="run-outputs")
            if record.answer:
                yield JsonSection("Answer", record.answer, text=True, collapsed=False, id="run-answer")
            if self.events:
                title = f"Raw events ({len(self.events)})"
                yield JsonSection(title, self.events, lines=True, id="run-events")
        yield Footer(compact=True)

    def _title(self) -> Text:
        record = self.record
        mark, style = STATUS_MARKS.get(record.status, ("?", "yellow"))
        text = Text("Run", style="bold")
        text.append(f"  {one_line(self.title_text)}", style="bold cyan")
        text.append(f"  {mark} {one_line(record.status)}", style=style)
        if record.started:
            text.append("  " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started)))
        if record.elapsed is not None:
            text.append(f"  {record.elapsed:.2f}s")
        if record.total_tokens:
            text.append(f"  {record.total_tokens} tokens")
        if record.total_price:
            text.append(f"  {one_line(record.total_price)} {one_line(record.currency or '')}".rstrip())
        if self.server:
            text.append("  server run", style="bold blue")
        return text

    def _ids(self) -> Text:
        record = self.record
        text = Text(style="dim")
        names = (
            ("conversation", record.conversation_id),
            ("message", record.message_id),
            ("task", record.task_id),
            ("workflow run", record.workflow_run_id),
        )
        shown = [f"{name} {one_line(value)}" for name, value in names if value]
        text.append(" · ".join(shown) or "no ids: the run ended before Dify named it")
        text.append(f"\n{record.interface} · {record.event_count} events")
        return text

    # -- keys ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_expand_all(self) -> None:
        nodes = list(self.query(".run-node").results(JsonSection))
        if not nodes:
            return
        fold = any(not node.collapsed for node in nodes)
        for node in nodes:
            node.collapsed = fold

    def action_mark(self) -> None:
        if self._mark is None:
            self.notify("Marks are set in the Runs view.", severity="warning")
            return
        self._mark(self.record)

    def action_export(self) -> None:
        from difytui.tui.export_actions import export_run

        export_run(self.app, self.record, self.events)

    def action_rerun(self) -> None:
        host: RunHost = self.app  # type: ignore[assignment]
        host.rerun_record(self.record)

    async def action_save_case(self) -> None:
        host: RunHost = self.app  # type: ignore[assignment]
        await host.save_record_case(self.record)


#: what the detail view shows of a finished node, in this order
DETAIL_KEYS = ("inputs", "outputs", "process_data", "error", "elapsed_time", "execution_metadata")


def node_detail(node: NodeRun) -> dict[str, Any]:
    """The finished event's inputs, outputs, process data, error, time and tokens."""
    shown = {key: node.data[key] for key in DETAIL_KEYS if node.data.get(key) not in (None, "", {})}
    if node.tokens is not None and "execution_metadata" not in shown:
        shown["total_tokens"] = node.tokens
    return shown


def _node_title(node: NodeRun) -> Content:
    mark, _style = STATUS_MARKS.get(node.status, ("?", ""))
    parts = [f"{mark} {one_line(node.title)}"]
    if node.node_type:
        parts.append(one_line(node.node_type))
    if node.elapsed is not None:
        parts.append(f"{node.elapsed:.2f}s")
    if node.tokens:
        parts.append(f"{node.tokens} tok")
    if node.status not in ("succeeded", "unfinished"):
        parts.append(one_line(node.status))
    return Content("  ".join(parts))
