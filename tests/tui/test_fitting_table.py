"""A column widened for an updated cell is drawn at its new width, even when a frame was drawn
between the update and the table's Idle (difytui.tui.widgets.fitting_table; the Tests view's
snapshot failed once in CI for this: "✓ pass  just" for "✓ pass  just now")."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from difytui.tui.widgets.fitting_table import FittingTable


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FittingTable()


async def test_a_widened_column_is_drawn_whole_after_a_frame_drawn_before_the_idle():
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        table: DataTable[str] = app.query_one(FittingTable)
        table.add_column("last", key="last")
        table.add_row("never", key="r")
        await pilot.pause()
        table.update_cell("r", "last", "passed just now", update_width=True)
        assert "just now" not in table.render_line(1).text  # a frame before the Idle: old width
        await pilot.pause()
        assert not table._updated_cells and not table._require_update_dimensions  # the Idle ran
        assert "passed just now" in table.render_line(1).text
