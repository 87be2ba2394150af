"""Issue 10 point 2: every field and every error of a form can be seen, at 80×24 and 200×50.

"Shown" means the compositor draws all of the widget (its region inside its clip): a field cut in
half by the form's panel does not count.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import Checkbox, Collapsible, Select

from .conftest import console, open_app, wait_until

SMALL = (80, 24)
LARGE = (200, 50)


def fully_shown(app: Any, widget: Widget) -> bool:
    entry = app.screen._compositor.visible_widgets.get(widget)
    if entry is None:
        return False
    region, clip = entry
    return clip.contains_region(region)


def notifications(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_focused_select_scrolls_into_view_at_80x24(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        tone = pane.form.rows[2]
        assert isinstance(tone.control, Select)
        tone.control.focus()
        # The label says which field it is; the select shows what was chosen.
        label = tone.query_one(".field-label")
        await wait_until(pilot, lambda: fully_shown(app, tone.control) and fully_shown(app, label))


async def test_a_focused_checkbox_is_not_cut_in_half(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "travel-agent")
        box = pane.form.rows[2].control
        assert isinstance(box, Checkbox)
        box.focus()
        await wait_until(pilot, lambda: fully_shown(app, box), what="the whole checkbox")


async def test_every_field_can_be_reached_by_tab(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        for row in pane.form.rows:
            row.control.focus()
            control = row.control
            await wait_until(pilot, lambda c=control: fully_shown(app, c), what=row.field.variable)


async def test_an_error_names_the_fields_and_shows_the_first_one(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "trip-planner")
        rows = {r.field.variable: r for r in pane.form.rows}
        rows["city"].control.value = "Oslo"
        rows["photo"].control.value = "no-such-dir/beach.png"
        pane.prompt.focus()
        await pilot.press("x", "enter")
        error = rows["photo"].query_one(".field-error")
        control = rows["photo"].control
        await wait_until(pilot, lambda: fully_shown(app, error) and fully_shown(app, control), what="error")
        assert "Inspiration photo: no such file" in str(error.render())
        assert app.focused is control
        assert any(
            "1 input needs attention before sending: Inspiration photo" in n for n in notifications(app)
        ), notifications(app)


async def test_a_completion_says_before_running(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: notifications(app), what="the summary")
        assert any(
            "2 inputs need attention before running: Product name, What is it?" in n
            for n in notifications(app)
        ), notifications(app)
        assert app.focused is pane.form.rows[0].control


def _heights(pane: Any) -> tuple[int, int]:
    panel = pane.query_one("#inputs", Collapsible)
    return panel.outer_size.height, pane.log_view.outer_size.height


async def test_the_log_keeps_usable_rows_at_80x24(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        for app_id in ("trip-planner", "travel-agent", "report-builder"):
            pane = await open_app(pilot, app, app_id)
            # five rows inside the log's border; the form's panel keeps a field's worth
            await wait_until(pilot, lambda p=pane: _heights(p)[1] >= 7, what=f"{app_id}'s log rows")
            assert _heights(pane)[0] >= 6, (app_id, _heights(pane))
            await pilot.press("escape")


async def test_a_tall_form_takes_the_room_the_log_does_not_need_at_200x50(sim):
    app = console(sim)
    async with app.run_test(size=LARGE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        # Before: the form was capped at 20 rows of a 49-row pane while the log sat empty.
        await wait_until(pilot, lambda: _heights(pane)[0] >= 28, what="the form's share")
        assert _heights(pane)[1] >= 14, _heights(pane)
        sections = pane.form.rows[3]
        assert sections.field.variable == "sections"
        assert fully_shown(app, sections.control)
