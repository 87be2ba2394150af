"""Snapshots of the demo's forms at 80×24 and 200×50 (issue 10 point 2): no field, error or line
cut off, and the log keeps its share of the height.

Update with ``pytest tests/tui/test_form_snapshots.py --snapshot-update`` after checking the report.
"""

from __future__ import annotations

import pytest

from .conftest import console, open_app, wait_until
from .test_form_layout import fully_shown

SMALL = (80, 24)
LARGE = (200, 50)


async def settle(pilot) -> None:
    for widget in pilot.app.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def focus_field(app_id: str, index: int):
    async def run_before(pilot):
        pane = await open_app(pilot, pilot.app, app_id)
        row = pane.form.rows[index]
        # The form's own reveal only (the pilot tests cover the screen's centring too), so the
        # scroll position does not depend on which of the two runs first.
        row.control.focus(scroll_visible=False)
        label = row.query_one(".field-label")
        await wait_until(pilot, lambda: fully_shown(pilot.app, row.control) and fully_shown(pilot.app, label))
        await settle(pilot)

    return run_before


async def _trip_planner_bad_photo(pilot):
    pane = await open_app(pilot, pilot.app, "trip-planner")
    rows = {r.field.variable: r for r in pane.form.rows}
    rows["city"].control.value = "Oslo"
    rows["photo"].control.value = "no-such-dir/beach.png"
    pane.prompt.focus()
    await pilot.press("x", "enter")
    await settle(pilot)


async def _copywriter_errors(pilot):
    await open_app(pilot, pilot.app, "copywriter")
    await pilot.press("ctrl+r")
    await settle(pilot)


async def _report_builder(pilot):
    await open_app(pilot, pilot.app, "report-builder")
    await settle(pilot)


@pytest.mark.parametrize(
    ("size", "run_before"),
    [
        pytest.param(SMALL, focus_field("copywriter", 2), id="copywriter-tone-80x24"),
        pytest.param(SMALL, focus_field("travel-agent", 2), id="travel-agent-checkbox-80x24"),
        pytest.param(SMALL, _trip_planner_bad_photo, id="trip-planner-bad-photo-80x24"),
        pytest.param(SMALL, _report_builder, id="report-builder-80x24"),
        pytest.param(LARGE, _report_builder, id="report-builder-200x50"),
        pytest.param(LARGE, _trip_planner_bad_photo, id="trip-planner-bad-photo-200x50"),
        pytest.param(LARGE, _copywriter_errors, id="copywriter-errors-200x50"),
    ],
)
def test_demo_form(snap_compare, sim, size, run_before):
    assert snap_compare(console(sim), terminal_size=size, run_before=run_before)
