"""The Tests view: the saved test cases of the open app, their last results, and runs of them.

The cases come from the cases folders (:func:`difytui.bench.catalog.folders_for`), file by file: a
broken file shows its ``file:line`` problems here and the others still run. Runs go through the
bench's runner in a worker (:mod:`difytui.tui.bench_worker`); its messages update one row per case
as the suite streams. Enter shows a case's detail (:mod:`difytui.tui.bench_detail`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker

from difytui.bench.case_files import Problem
from difytui.bench.catalog import Folders
from difytui.bench.last_results import LastResult
from difytui.bench.model import Case, CaseResult, Target
from difytui.tui.bench_cases import history, load_app_cases
from difytui.tui.bench_detail import detail_text, last_cell, result_cell
from difytui.tui.bench_worker import CaseProgress, SuiteDone, SuiteFailed, run_cases
from difytui.tui.safe_text import clean, one_line
from difytui.tui.screens.compare_picker import ComparePicker
from difytui.tui.startup import styles_dir
from difytui.tui.widgets.fitting_table import FittingTable

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify
    from difytui.store import Store
    from difytui.tui.models import AppItem

COLUMNS = ("case", "last recorded", "this session")
OTHER = "compared"  # the column of the app compared with (added by c)


class TestsScreen(ModalScreen[None]):
    """The Tests view of one app (``item``); ``interfaces``: every known app (id and name) → its
    interface, to check the cases fit the app and their judges' graders before anything runs.

    Modal, though it fills the screen: the shell's keys (the app list's filter, the panes' keys)
    have nothing to act on here, so only its own keys (and the priority ones, ctrl+q) reach it."""

    CSS_PATH = styles_dir() / "tests.tcss"
    HELP_TITLE = "Tests view"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run_all", "Run all", id="tests.run_all", tooltip="Run every case of this app"),
        Binding("r", "run_one", "Run one", id="tests.run_one", tooltip="Run the highlighted case"),
        Binding(
            "f",
            "rerun_failed",
            "Re-run failed",
            id="tests.rerun_failed",
            tooltip="Run the failed cases again",
        ),
        Binding(
            "c",
            "compare",
            "Compare",
            id="tests.compare",
            tooltip="Run every case on this app and on another one, and diff their answers",
        ),
        Binding(
            "escape",
            "back",
            "Stop / back",
            id="tests.back",
            tooltip="Stop the running cases (on the server too); else close the detail, then the view",
        ),
    ]

    def __init__(
        self,
        item: AppItem,
        folders: Folders,
        interfaces: Mapping[str, str],
        client: AsyncDify,
        store: Store,
        peers: Sequence[tuple[str, str]] = (),
        workspace: str = "",
    ) -> None:
        super().__init__(id="tests-screen")
        self.item = item
        self.folders = folders
        self.interfaces = dict(interfaces)
        self.client = client
        self.store = store
        self.workspace = workspace  # its name: part of a recorded run's identity
        self.peers = list(peers)  # (id, name) of the apps it can be compared with (same interface)
        self.other: Target | None = None  # the app compared with, once chosen
        self.others: dict[str, CaseResult] = {}  # its results, by case key
        self.pending: set[tuple[str, bool]] = set()  # (case key, on the other app) not done yet
        self.cases: list[Case] = []
        self.invalid: set[str] = set()  # keys of cases that cannot run on this app
        self.problems: list[Problem] = []
        self.results: dict[str, CaseResult] = {}  # this session's, by case key
        self.last: dict[str, LastResult] = {}
        self.suite: Worker[None] | None = None
        self.loaded = False
        self.suites_done = 0  # for tests: wait on this, not on the clock
        self.shown: str | None = None  # the case whose detail is open

    def compose(self) -> ComposeResult:
        yield Static("", id="tests-title", markup=False)
        yield Static("", id="tests-problems", markup=False)
        table: DataTable[Text] = FittingTable(id="tests-table", cursor_type="row", zebra_stripes=True)
        yield table
        with VerticalScroll(id="tests-detail"):
            yield Static("", id="tests-detail-text", markup=False)
        yield Static("", id="tests-status", markup=False)
        yield Footer(compact=True)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#tests-table", DataTable)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.table.add_column(column, key=column)
        self.query_one("#tests-detail").display = False
        self.query_one("#tests-problems").display = False
        self._title("loading the cases…")
        self.run_worker(
            self.reload(), group="tests-load", exclusive=True, exit_on_error=False, name="loading test cases"
        )

    def _title(self, note: str) -> None:
        text = Text("Tests", style="bold")
        text.append(f"  {one_line(self.item.name) or self.item.id}", style="bold cyan")
        text.append(f"  {note}", style="dim")
        self.query_one("#tests-title", Static).update(text)

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#tests-status", Static).update(Text(text, style=style))

    # -- loading -----------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Read the cases folders again (after Save as test case, or an edit) and the last results."""
        names = {self.item.id, self.item.name}
        found = await asyncio.to_thread(
            load_app_cases,
            self.folders,
            names,
            self.item.interface,
            self.interfaces,
            self.store,
            self.workspace,
        )
        self.cases, self.invalid, self.problems, self.last = (
            found.cases,
            found.invalid,
            found.problems,
            found.last,
        )
        self._fill()
        self.loaded = True

    def _fill(self) -> None:
        table = self.table
        table.clear()
        for case in self.cases:
            table.add_row(*self._cells(case), key=case.key)
        where = ", ".join(str(folder) for folder in self.folders.read) or self.folders.why
        count = f"{len(self.cases)} case{'s' if len(self.cases) != 1 else ''}"
        self._title(f"{count} in {clean(where)}")
        problems = self.query_one("#tests-problems", Static)
        problems.display = bool(self.problems)
        text = Text()
        for number, problem in enumerate(self.problems):
            text.append("\n✗ " if number else "✗ ", style="bold red")
            text.append(clean(str(problem)))
        problems.update(text)
        if not self.cases and not self.problems:
            note = "No test cases for this app yet: ctrl+s in its pane saves the last run as one."
            self._status(note if self.folders.save is not None else self.folders.why, "italic")

    def _cells(self, case: Case) -> tuple[Text, Text, Text]:
        now = self.results.get(case.key)
        if case.key in self.invalid:
            session = Text("✗ cannot run: see above", style="red")
        else:
            session = result_cell(now) if now is not None else Text("")
        return (
            Text(one_line(case.name)),
            last_cell(case, self.last.get(case.key)),
            session,
        )

    # -- running ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.suite is not None and not self.suite.is_finished

    def action_run_all(self) -> None:
        self._start(self.cases)

    def action_run_one(self) -> None:
        key = self._highlighted()
        self._start([case for case in self.cases if case.key == key])

    def action_rerun_failed(self) -> None:
        failed = [c for c in self.cases if c.key in self.results and self.results[c.key].verdict != "pass"]
        if not failed:
            self.notify("No failed case to run again.", severity="warning")
            return
        self._start(failed)

    def _highlighted(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_compare(self) -> None:
        if not self.peers:
            self.notify("No other app of this kind to compare with.", severity="warning")
            return
        self.app.push_screen(ComparePicker(self.item.name or self.item.id, self.peers), self._compare_with)

    def _compare_with(self, app_id: str | None) -> None:
        if app_id is None or self.running:
            return
        self.other = Target(app_id)
        self.others.clear()
        name = dict(self.peers).get(app_id) or app_id
        if OTHER not in self.table.columns:
            self.table.add_column(f"vs {one_line(name)}", key=OTHER)
        else:
            self.table.columns[ColumnKey(OTHER)].label = Text(f"vs {one_line(name)}")
        for case in self.cases:
            self.table.update_cell(case.key, OTHER, Text(""))
        self._start(self.cases, compare=True)

    def _start(self, cases: Sequence[Case], compare: bool = False) -> None:
        if self.running:
            self.notify("The cases are running: Escape stops them.", severity="warning")
            return
        runnable = [case for case in cases if case.key not in self.invalid]
        if not runnable:
            self.notify("No case to run here.", severity="warning")
            return
        targets = [Target(self.item.id), self.other] if compare and self.other else []
        self.pending = {
            (case.key, other) for case in runnable for other in ((False, True) if targets else (False,))
        }
        for key, other in self.pending:
            self._set_cell(key, Text("queued", style="dim"), other)
        self._status(f"running {len(runnable)} case(s)… Escape stops them")
        self.suite = self.run_worker(
            run_cases(self.client, self.store, self.workspace, runnable, self.post_message, targets),
            group="tests-run",
            exit_on_error=False,
            name="test suite",
        )

    def _set_cell(self, key: str, value: Text, other: bool = False) -> None:
        self.table.update_cell(key, OTHER if other else COLUMNS[-1], value, update_width=True)

    @on(CaseProgress)
    def _progress(self, message: CaseProgress) -> None:
        progress = message.progress
        key = progress.result.case.key
        other = self.other is not None and progress.result.target == self.other
        if progress.kind == "start":
            self._set_cell(key, Text("running…", style="bold"), other)
            return
        if progress.kind != "case":
            return
        (self.others if other else self.results)[key] = progress.result
        self.pending.discard((key, other))
        self._set_cell(key, result_cell(progress.result), other)
        self._status(f"{progress.done}/{progress.total} done")
        if self.shown == key:
            self._show(key)

    @on(SuiteDone)
    async def _suite_done(self, message: SuiteDone) -> None:
        suite = message.suite
        summary = f"{suite.count('pass')} passed, {suite.count('fail')} failed, {suite.count('error')} errors"
        if suite.interrupted:
            summary += "; stopped: in-flight runs were stopped on the server"
            for key, other in self.pending:
                self._set_cell(key, Text("stopped", style="yellow"), other)
        self.pending = set()
        failing = suite.count("pass") < len(suite.results)
        self._status(summary + ("  ·  f re-runs the failed ones" if failing else ""), "bold")
        self.last = await asyncio.to_thread(history, self.store, self.cases, self.workspace)
        for case in self.cases:
            self.table.update_cell(
                case.key, COLUMNS[1], last_cell(case, self.last.get(case.key)), update_width=True
            )
        self.suites_done += 1

    @on(SuiteFailed)
    def _suite_failed(self, message: SuiteFailed) -> None:
        self._status(f"The cases could not run: {message.text}", "bold red")
        self.suites_done += 1

    # -- detail and back ---------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#tests-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._show(event.row_key.value)

    def _show(self, key: str) -> None:
        case = next((c for c in self.cases if c.key == key), None)
        if case is None:
            return
        self.shown = key
        detail = self.query_one("#tests-detail")
        detail.display = True
        text = detail_text(case, self.results.get(key), self.last.get(key), self.others.get(key))
        self.query_one("#tests-detail-text", Static).update(text)

    def action_back(self) -> None:
        if self.running and self.suite is not None:
            self.suite.cancel()  # the runner stops in-flight runs on the server, then SuiteDone
            self._status("stopping the running cases…", "yellow")
        elif self.shown is not None:
            self.shown = None
            self.query_one("#tests-detail").display = False
            self.table.focus()
        else:
            self.dismiss()
