"""The Runs view of one app: its recorded runs, newest first, and for a workflow app Dify's own
runs too (``GET /workflows/logs``, any client's), marked as server runs.

The first screen is one indexed query with a LIMIT (no events decompressed: the list needs only
the summary columns), sized to the terminal: every row added is measured and every row shown is
drawn before the first frame. Each row is one cell (:mod:`.run_lines`). Further pages load as
the cursor or the scroll nears the end, local ones from the database, server ones page by page
from Dify; a page of older runs is appended, so the highlighted row, the scroll and the marks
stay. Filters: ``s`` cycles the status, ``/`` the text (local runs: the database matches query,
answer, inputs, outputs and error; server runs: what their summary shows). Enter opens a run
(:mod:`.run_detail`); ``m`` marks two, ``c`` compares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

from difytui.tui.keys import RUNS_BACK, RUNS_COMPARE, RUNS_FILTER, RUNS_MARK, RUNS_RERUN, RUNS_STATUS
from difytui.tui.run_lines import RunColumns
from difytui.tui.run_rows import STATUS_FILTERS, RunRow, cells, local_row, matches, server_row
from difytui.tui.runs_worker import RunLoaded, ServerPage, load_run, server_page
from difytui.tui.safe_text import one_line
from difytui.tui.screens.run_detail import RunDetailScreen, RunHost
from difytui.tui.startup import styles_dir
from difytui.tui.widgets.fitting_table import FittingTable
from difytui.tui.widgets.key_line import KeyLine

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.run_records import RunRecord, RunRecords
    from difytui.tui.models import AppItem

#: local records per page after the first (which is the terminal's height + NEAR_END)
PAGE = 60
#: load the next page when the cursor, or the bottom of the scroll, is this close to the last row
NEAR_END = 10
FILTER_HINT = "/ filter by text · s status · m mark · c compare"
LINE = "run"  # the table's one column


class RunsScreen(ModalScreen[None]):
    """The runs of ``item`` in ``records`` (workspace ``ws``); ``server``: list Dify's too."""

    CSS_PATH = styles_dir() / "runs.tcss"
    HELP_TITLE = "Runs view"
    # the table has the focus from the first frame: focusing it later restyles and redraws it
    AUTO_FOCUS = "#runs-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        RUNS_FILTER,
        RUNS_STATUS,
        RUNS_MARK,
        RUNS_COMPARE,
        RUNS_RERUN,
        RUNS_BACK,
    ]

    def __init__(
        self,
        item: AppItem,
        records: RunRecords,
        ws: str,
        client: AsyncDify | None,
        *,
        server: bool,
        marks: list[str] | None = None,
    ) -> None:
        super().__init__(id="runs-screen")
        self.item = item
        self.records = records
        self.ws = ws
        self.client = client
        self.server = server and client is not None
        self.status: str | None = None
        self.text = ""
        self.local: list[RunRow] = []
        self.local_more = False
        self.local_asked = False  # a next local page is on its way (the cursor and the scroll both ask)
        self.first_page = PAGE  # set on mount, from the terminal's height
        self.remote: list[RunRow] = []
        self.server_page = 0  # the last page asked for
        self.server_more = self.server
        self.server_loading = False
        self.server_error = ""
        # "<app id>|<row key>", oldest first, two at most: the console's list, so that a run of
        # one app can be compared with a run of another
        self.marked: list[str] = marks if marks is not None else []
        self.rows: dict[str, RunRow] = {}
        self.loaded: dict[str, RunLoaded] = {}  # the marked runs, as they load for comparing
        self.server_pages_done = 0  # for tests: wait on this, not on the clock
        self.columns = RunColumns()  # one cell a row, its columns laid out here (see run_lines)

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-title", markup=False)
        # the filter field is mounted on the first "/": an Input costs the first frame ~8 ms
        yield Static(FILTER_HINT, id="runs-filter-hint", markup=False)
        table: DataTable[Text] = FittingTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="runs-status", markup=False)
        yield KeyLine(self.BINDINGS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#runs-table", DataTable)

    def on_mount(self) -> None:
        # more rows than the table can show (the screen's other lines take some), so that the cursor
        # moves a screen's worth before the next page is needed
        self.first_page = self.app.size.height + NEAR_END
        self.table.add_column(self.columns.header(), key=LINE)
        self.watch(self.table, "scroll_y", self._scrolled, init=False)
        self.reload_local()
        if self.server:
            self.more_server()

    # -- loading -----------------------------------------------------------------------------------

    def reload_local(self) -> None:
        self.local = []
        self.rows = {}  # the filters changed: the table is built again
        self.more_local()

    def more_local(self) -> None:
        self.local_asked = False
        before = self.local[-1].record.id if self.local and self.local[-1].record else None
        limit = PAGE if self.local else self.first_page
        found = self.records.find(
            self.ws, self.item.id, status=self.status, text=self.text or None, limit=limit, before_id=before
        )
        self.local.extend(local_row(record) for record in found)
        self.local_more = len(found) == limit
        self.fill()

    def more_server(self) -> None:
        if self.server_loading or not self.server_more or self.client is None:
            return
        self.server_loading = True
        self.server_page += 1
        post = self.post_message
        self.run_worker(
            server_page(self.client, self.records, self.ws, self.item.id, self.server_page, post),
            group="runs-server",
            exit_on_error=False,
            name="Dify's runs",
        )

    @on(ServerPage)
    def _server_page(self, message: ServerPage) -> None:
        self.server_loading = False
        self.server_pages_done += 1
        if message.error:
            self.server_more = False
            self.server_error = message.error
        else:
            self.remote.extend(server_row(run) for run in message.runs)
            self.server_more = message.has_more
        self.fill()

    def fill(self) -> None:
        """The table from the loaded rows (filtered, newest first), the cursor kept on its run."""
        table = self.table
        shown = [*self.local, *(r for r in self.remote if matches(r, self.status, self.text))]
        shown.sort(key=lambda row: row.started, reverse=True)
        before = list(self.rows)
        self.rows = {row.key: row for row in shown}
        if before and [row.key for row in shown[: len(before)]] == before:
            # a later page of older runs: appended, the cursor and the scroll left where they are
            new = {row.key: self._cells(row) for row in shown[len(before) :]}
            if self.columns.fit(new.values()):  # the rows already shown, to the wider columns
                for key in before:
                    table.update_cell(key, LINE, self._line(self.rows[key]), update_width=True)
                self._header()
            for key, row_cells in new.items():
                table.add_row(self.columns.line(row_cells), key=key)
        else:
            keep = self.highlighted()
            table.clear()
            every = {row.key: self._cells(row) for row in shown}
            self.columns = RunColumns()
            self.columns.fit(every.values())
            self._header()
            for key, row_cells in every.items():
                table.add_row(self.columns.line(row_cells), key=key)
            if keep in self.rows:
                table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._title(len(shown))

    def _cells(self, row: RunRow) -> tuple[Text, ...]:
        return cells(row, self.is_marked(row.key))

    def _line(self, row: RunRow) -> Text:
        return self.columns.line(self._cells(row))

    def _header(self) -> None:
        self.table.columns[ColumnKey(LINE)].label = self.columns.header()

    def _title(self, count: int) -> None:
        text = Text("Runs", style="bold")
        text.append(f"  {one_line(self.item.name) or self.item.id}", style="bold cyan")
        more = "+" if self.local_more or self.server_more else ""
        text.append(f"  {count}{more} run{'s' if count != 1 else ''}", style="dim")
        if self.status:
            text.append(f"  status: {self.status}", style="bold yellow")
        if self.text:
            text.append(f"  text: {one_line(self.text)}", style="bold yellow")
        if self.server_loading:
            text.append("  loading Dify's runs…", style="italic dim")
        self.query_one("#runs-title", Static).update(text)
        status = self.server_error and f"Dify's runs could not be listed: {one_line(self.server_error)}"
        if not status and not count:
            status = "No runs recorded for this app yet: ctrl+r in its pane runs it."
        elif not status and self.marked:
            status = f"{len(self.marked)} marked" + (": c compares them" if len(self.marked) == 2 else "")
        self.query_one("#runs-status", Static).update(Text(status, style="italic"))

    def highlighted(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.table.row_count - NEAR_END:
            self._more()

    def _scrolled(self, _old: float, new: float) -> None:
        bottom = self.table.max_scroll_y  # 0 while a rebuilt table has not been measured yet
        if bottom and new >= bottom - NEAR_END:
            self._more()

    def _more(self) -> None:
        if self.local_more:
            if not self.local_asked:
                self.local_asked = True
                self.call_later(self.more_local)
        elif self.server_more:
            self.more_server()

    # -- filters ---------------------------------------------------------------------------------

    async def action_focus_filter(self) -> None:
        found = self.query("#runs-filter").results(Input)
        field = next(found, None)
        if field is None:
            field = Input(placeholder=FILTER_HINT, id="runs-filter")
            hint = self.query_one("#runs-filter-hint")
            await self.mount(field, before=hint)
            await hint.remove()
        field.focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self.reload_local()

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self, _event: Input.Submitted) -> None:
        self.table.focus()

    def action_cycle_status(self) -> None:
        steps = STATUS_FILTERS
        self.status = steps[(steps.index(self.status) + 1) % len(steps)]
        self.reload_local()

    # -- marks, detail, compare, re-run ------------------------------------------------------------

    def action_mark(self) -> None:
        key = self.highlighted()
        if key is not None:
            self.toggle_mark(key)

    def is_marked(self, key: str) -> bool:
        return f"{self.item.id}|{key}" in self.marked

    def toggle_mark(self, key: str) -> None:
        mark = f"{self.item.id}|{key}"
        if mark in self.marked:
            self.marked.remove(mark)
        else:
            self.marked.append(mark)
            if len(self.marked) > 2:  # two at most: the oldest mark goes
                app_id, _, dropped = self.marked.pop(0).rpartition("|")
                if app_id == self.item.id:
                    self._redraw_mark(dropped)
        self._redraw_mark(key)
        self._title(self.table.row_count)

    def mark_record(self, record: RunRecord) -> None:
        """``m`` in a run's detail."""
        key = f"r:{record.id}" if record.id is not None else f"s:{record.workflow_run_id}"
        self.toggle_mark(key)
        state = "marked" if self.is_marked(key) else "unmarked"
        self.notify(f"Run {state} for comparison ({len(self.marked)} of 2).", timeout=3)

    def _redraw_mark(self, key: str) -> None:
        row = self.rows.get(key)
        if row is not None:
            self.table.update_cell(key, LINE, self._line(row))

    @on(DataTable.RowSelected, "#runs-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._load(str(event.row_key.value), "open")

    def action_compare(self) -> None:
        if len(self.marked) != 2:
            self.notify("Mark two runs with m first, then c compares them.", severity="warning")
            return
        self.loaded.clear()
        for mark in self.marked:
            app_id, _, key = mark.rpartition("|")
            self._load(key, "compare", app_id)

    def action_rerun(self) -> None:
        key = self.highlighted()
        if key is not None:
            self._load(key, "rerun")

    def _load(self, key: str, purpose: str, app_id: str | None = None) -> None:
        app_id = app_id or self.item.id
        self.run_worker(
            load_run(self.client, self.records, app_id, key, purpose, self.post_message),
            group=f"runs-{purpose}",
            exit_on_error=False,
            name="loading the run",
        )

    @on(RunLoaded)
    def _loaded(self, message: RunLoaded) -> None:
        if message.record is None:
            self.notify(f"Could not load the run: {one_line(message.error)}", severity="error", markup=False)
            return
        host: RunHost = self.app  # type: ignore[assignment]
        if message.purpose == "rerun":
            host.rerun_record(message.record)
        elif message.purpose == "open":
            name = one_line(self.item.name) or self.item.id
            screen = RunDetailScreen(
                message.record,
                message.events,
                title=name,
                server=message.key.startswith("s:"),
                mark=self.mark_record,
            )
            self.app.push_screen(screen)
        elif message.purpose == "compare":
            self.loaded[f"{message.app_id}|{message.key}"] = message
            if all(mark in self.loaded for mark in self.marked):
                self._compare()

    def _compare(self) -> None:
        from difytui.tui.screens.run_compare import CompareRunsScreen

        left, right = (self.loaded[mark] for mark in self.marked)
        assert left.record is not None and right.record is not None
        self.app.push_screen(CompareRunsScreen(left.record, right.record, left.events, right.events))

    def action_back(self) -> None:
        if isinstance(self.focused, Input):  # the filter field: back to the table
            self.table.focus()
            return
        self.dismiss()
