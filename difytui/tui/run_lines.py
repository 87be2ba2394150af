"""The Runs view's rows as single lines: each row's cells (:func:`.run_rows.cells`) laid out in
columns, as a DataTable would lay them out, but as one Text per row.

Why: a DataTable renders, pads and caches every cell apart, and drawing the rows was most of the
view's first frame. One cell a row draws the same picture (the snapshots match cell for cell) and
took the first screen at 120×40 from about 48 to 31 ms of CPU (benchmarks/runs_view.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text

from difytui.tui.run_rows import COLUMNS

GAP = "  "  # between two columns: a DataTable's cell padding on both sides
#: right-aligned columns (latency, tokens), by index in COLUMNS
RIGHT = frozenset({3, 4})


class RunColumns:
    """Column widths, widened (never narrowed) to fit the rows seen, and lines laid out to them.
    The last column (the run's text) is not padded: it runs on to the table's edge."""

    def __init__(self) -> None:
        self.widths = [len(name) for name in COLUMNS[:-1]]

    def fit(self, rows: Iterable[Sequence[Text]]) -> bool:
        """Widen to ``rows``; True when a width grew (lines made before are then out of line)."""
        grew = False
        for cells in rows:
            for index, cell in enumerate(cells[:-1]):
                if cell.cell_len > self.widths[index]:
                    self.widths[index] = cell.cell_len
                    grew = True
        return grew

    def header(self) -> Text:
        return self.line([Text(name) for name in COLUMNS])

    def line(self, cells: Sequence[Text]) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        for index, cell in enumerate(cells[:-1]):
            pad = " " * max(0, self.widths[index] - cell.cell_len)
            if index in RIGHT:
                line.append(pad)
            line.append_text(cell)
            if index not in RIGHT:
                line.append(pad)
            line.append(GAP)
        line.append_text(cells[-1])
        return line
