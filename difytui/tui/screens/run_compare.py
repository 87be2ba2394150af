"""Compare two runs side by side (issue 11): inputs, nodes, totals, and the outputs' diff.

What differs comes from :func:`difytui.run_compare.compare_runs`; this screen only lays it out.
A differing row carries a glyph as well as a style (a monochrome terminal still shows it), and
every server string is a ``Text`` (never markup) cleaned of control sequences.
"""

from __future__ import annotations

from typing import ClassVar

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from difytui.run_compare import (
    Comparison,
    NodeRow,
    NodeRun,
    compare_runs,
    delta,
    show_cost,
    show_seconds,
    show_tokens,
    show_value,
    with_diffs,
)
from difytui.run_records import JSON, RunRecord
from difytui.tui.safe_text import literal, one_line
from difytui.tui.startup import styles_dir

#: the glyph of a row: differs, ran only in the left run, only in the right one
DIFFERS, ONLY_LEFT, ONLY_RIGHT = "≠", "◀", "▶"
_INPUT_MARKS = {"added": "+", "removed": "-", "changed": DIFFERS}
_DIFF_STYLE = "bold yellow"
_VALUE_WIDTH = 60
#: a run's cell in the node table: status, time, tokens (fixed, so a narrow screen cuts the titles)
_SIDE_WIDTH = 22
_WHAT_WIDTH = 10
_SHORT = {"only_left": "only left", "only_right": "only right", "outputs": "out", "tokens": "tok"}
_SHORT |= {"elapsed": "time", "error": "err"}


class CompareRunsScreen(ModalScreen[None]):
    """Two runs (of one app or two), side by side. Modal though it fills the screen, as the Tests
    view: the shell's keys have nothing to act on here."""

    CSS_PATH = styles_dir() / "compare.tcss"
    HELP_TITLE = "Compare view"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Back", id="compare.back", tooltip="Close the comparison"),
        Binding(
            "n",
            "next_difference",
            "Next diff",
            id="compare.next",
            tooltip="Scroll to the next differing node",
        ),
    ]

    def __init__(
        self, left: RunRecord, right: RunRecord, left_events: list[JSON], right_events: list[JSON]
    ) -> None:
        super().__init__(id="compare-runs")
        self.left, self.right = left, right
        # the outputs' diffs come from a worker (on_mount): difflib on long outputs takes a while
        self.comparison: Comparison = compare_runs(left, right, left_events, right_events, diffs=False)
        self.diffed = False
        self._next = 0

    def compose(self) -> ComposeResult:
        cmp = self.comparison
        yield Static(self._title_part(), id="compare-title", markup=False)
        with VerticalScroll(id="compare-body"):
            yield Static(self._inputs_part(), id="compare-inputs", markup=False)
            yield Static(self._nodes_part(), id="compare-nodes", markup=False)
            yield Static(self._totals_part(), id="compare-totals", markup=False)
            yield Static(self._diff_part(), id="compare-diff", markup=False)
        differing = len(cmp.differing_nodes)
        status = (
            f"{differing} of {len(cmp.nodes)} nodes differ" if cmp.nodes else "no nodes (not a workflow run)"
        )
        yield Static(Text(status), id="compare-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compare-body", VerticalScroll).focus()
        self.run_worker(self._diff_outputs, thread=True, group="compare-diff", exit_on_error=False)

    def _diff_outputs(self) -> None:
        comparison = with_diffs(self.comparison, self.left, self.right)
        self.app.call_from_thread(self._show_diffs, comparison)

    def _show_diffs(self, comparison: Comparison) -> None:
        if not self.is_attached:  # closed before the diffs were ready
            return
        self.comparison = comparison
        self.diffed = True
        self.query_one("#compare-diff", Static).update(self._diff_part())

    # -- sections ----------------------------------------------------------------------------

    def _title_part(self) -> Text:
        cmp = self.comparison
        title = Text("Compare  ", style="bold")
        title.append(one_line(cmp.left_label), style="bold")
        title.append(f" ({one_line(cmp.status[0])})")
        title.append("  ⇄  ")
        title.append(one_line(cmp.right_label), style="bold")
        title.append(f" ({one_line(cmp.status[1])})")
        return title

    def _inputs_part(self) -> RenderableType:
        cmp = self.comparison
        heading = Text("Inputs", style="bold underline")
        if not cmp.inputs:
            return Group(
                heading, Text("  the same inputs" if cmp.same_inputs else "  no inputs", style="dim")
            )
        table = _Fitted(("", "input", cmp.left_label, cmp.right_label), (1, None, None, None))
        for change in cmp.inputs:
            left = "" if change.kind == "added" else show_value(change.left)
            right = "" if change.kind == "removed" else show_value(change.right)
            table.add_row(
                Text(_INPUT_MARKS[change.kind], style=_DIFF_STYLE),
                literal(one_line(change.key)),
                literal(_cut(one_line(left))),
                literal(_cut(one_line(right))),
                style=_DIFF_STYLE if change.kind == "changed" else "",
            )
        same = Text(f"  the same: {', '.join(one_line(k) for k in cmp.same_inputs)}", style="dim")
        return Group(heading, table, same) if cmp.same_inputs else Group(heading, table)

    def _nodes_part(self) -> RenderableType:
        cmp = self.comparison
        heading = Text("Nodes", style="bold underline")
        if not cmp.nodes:
            return Group(heading, Text("  no node events in either run", style="dim"))
        headers = ("", "node", cmp.left_label, cmp.right_label, "differs")
        table = _Fitted(headers, (1, None, _SIDE_WIDTH, _SIDE_WIDTH, _WHAT_WIDTH))
        for row in cmp.nodes:
            table.add_row(
                Text(_glyph(row), style=_DIFF_STYLE),
                literal(_cut(row.label, 30)),
                _side(row.left),
                _side(row.right),
                Text(_what(row), style=_DIFF_STYLE),
                style=_DIFF_STYLE if row.differs else "",
            )
        errors = [
            _errors(row)
            for row in cmp.nodes
            if (row.left and row.left.error) or (row.right and row.right.error)
        ]
        return Group(heading, table, *errors)

    def _totals_part(self) -> RenderableType:
        totals = self.comparison.totals
        headers = ("total", self.comparison.left_label, self.comparison.right_label, "change")
        table = _Fitted(headers, (7, None, None, None))
        left_cur, right_cur = totals.currency
        table.add_row(
            "latency",
            show_seconds(totals.elapsed[0]),
            show_seconds(totals.elapsed[1]),
            delta(*totals.elapsed),
        )
        table.add_row(
            "tokens", show_tokens(totals.tokens[0]), show_tokens(totals.tokens[1]), delta(*totals.tokens)
        )
        cost_change = delta(*totals.cost) if left_cur == right_cur else "(two currencies)"
        table.add_row(
            "cost", show_cost(totals.cost[0], left_cur), show_cost(totals.cost[1], right_cur), cost_change
        )
        return Group(Text("Totals", style="bold underline"), table)

    def _diff_part(self) -> RenderableType:
        cmp = self.comparison
        heading = Text("Outputs diff" if cmp.diff_of == "outputs" else "Answer diff", style="bold underline")
        if not self.diffed:
            return Group(heading, Text("  comparing…", style="dim italic"))
        if not cmp.diff:
            return Group(heading, Text(f"  the same {cmp.diff_of}", style="dim"))
        parts: list[RenderableType] = [heading, _diff_text(cmp.diff)]
        for key, lines in cmp.text_diffs.items():
            parts += [Text(f"Text of {one_line(key)}", style="bold underline"), _diff_text(lines)]
        return Group(*parts)

    # -- keys --------------------------------------------------------------------------------

    def action_next_difference(self) -> None:
        """Scroll the next differing node's row into view (wraps around)."""
        rows = self.comparison.nodes
        differing = [i for i, row in enumerate(rows) if row.differs]
        if not differing:
            self.notify("No node differs.")
            return
        index = differing[self._next % len(differing)]
        self._next += 1
        nodes = self.query_one("#compare-nodes", Static)
        body = self.query_one("#compare-body", VerticalScroll)
        # the heading, the table's header line, then one line a row (no row wraps: cells are cut)
        body.scroll_to(y=nodes.virtual_region.y + 2 + index, animate=False)


class _Fitted:
    """A table built for the width Rich renders it at: the fixed columns keep their width (the
    glyph never goes), the flexible ones (None) share the rest; cells are cut, no row wraps (so
    a node's row is one line, which ``n`` relies on)."""

    def __init__(self, headers: tuple[str, ...], widths: tuple[int | None, ...]) -> None:
        self.headers, self.widths = headers, widths
        self.rows: list[tuple[tuple[Text | str, ...], str]] = []

    def add_row(self, *cells: Text | str, style: str = "") -> None:
        self.rows.append((cells, style))

    def _natural(self, column: int) -> int:
        cells = [self.headers[column], *(cells[column] for cells, _style in self.rows)]
        return max(Text(c).cell_len if isinstance(c, str) else c.cell_len for c in cells)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # each gap between columns: a space of padding either side of a blank separator
        fixed = sum(w for w in self.widths if w is not None) + 3 * (len(self.widths) - 1)
        flexible = [i for i, w in enumerate(self.widths) if w is None]
        room = max(4 * len(flexible), options.max_width - fixed)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
        for i, header in enumerate(self.headers):
            width = self.widths[i]
            if width is None:
                width = min(self._natural(i), room // len(flexible))
            table.add_column(literal(one_line(header)), no_wrap=True, overflow="ellipsis", width=width)
        for cells, style in self.rows:
            table.add_row(*cells, style=style)
        yield table


def _diff_text(lines: list[str]) -> Text:
    body = Text()
    for line in lines:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        style = "bold" if line.startswith(("+++", "---")) else "cyan" if line.startswith("@@") else style
        body.append_text(literal(line, style))
        body.append("\n")
    body.rstrip()
    return body


def _errors(row: NodeRow) -> Text:
    """A node's errors under the table (they do not fit a cell): ``✗ LLM: left: … · right: …``."""
    text = Text("✗ ", style="bold red")
    text.append(one_line(row.label), style="bold")
    for side, run in (("left", row.left), ("right", row.right)):
        text.append(f"  {side}: ", style="dim")
        text.append(one_line(run.error) if run is not None and run.error else "—", style="red")
    return text


def _glyph(row: NodeRow) -> str:
    if "only_left" in row.differs:
        return ONLY_LEFT
    if "only_right" in row.differs:
        return ONLY_RIGHT
    return DIFFERS if row.differs else " "


def _what(row: NodeRow) -> str:
    return ",".join(_SHORT.get(what, what) for what in row.differs)


def _side(run: NodeRun | None) -> Text:
    if run is None:
        return Text("— did not run", style="dim")
    tokens = "" if run.tokens is None else str(run.tokens)
    return literal(f"{_cut(one_line(run.status), 9):<9} {show_seconds(run.elapsed):>6} {tokens:>5}")


def _cut(text: str, width: int = _VALUE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
