"""A ``DataTable`` whose columns, widened for an updated cell, are drawn at their new width.

Textual's ``update_cell(..., update_width=True)`` widens the column on the table's next Idle, but
the rows' render caches are keyed by an update count taken *before* that: a frame drawn between
the update and the Idle (a busy loop makes one likely) is cached with the old width and shown for
good, the new text cut at the old edge. The Tests view's snapshot caught it ("✓ pass  just" for
"✓ pass  just now"). Here a width change drops those caches and repaints (Textual 8.2.8).
"""

from __future__ import annotations

from typing import TypeVar

from textual.widgets import DataTable
from textual.widgets._data_table import CellKey

CellType = TypeVar("CellType")


class FittingTable(DataTable[CellType]):
    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        before = [column.content_width for column in self.columns.values()]
        super()._update_column_widths(updated_cells)
        if before != [column.content_width for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()
