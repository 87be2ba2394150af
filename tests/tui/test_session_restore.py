"""A restart brings the console back as it was left (issue 10, point 4): the last open app, its
conversation, its form's values as typed (sent or not), whether the form was folded, and the
theme. For the demo (a new simulator on a new port each time) as for a real workspace."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from textual.widgets import Collapsible, Input

from difytui.demo import LazyDemo
from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole

from .conftest import SIZE, console, open_app, run_done, type_text, wait_until


@contextmanager
def launch(kind: str, sim):
    """One start of the console: the demo (its own simulator, a new port) or a configured workspace."""
    if kind == "demo":
        demo = LazyDemo(token_delay=0)
        try:
            yield DifyConsole(demo.workspace)
        finally:
            demo.stop()
    else:
        yield console(sim)


@pytest.mark.parametrize("kind", ["demo", "workspace"])
async def test_a_restart_brings_back_the_app_its_conversation_inputs_fold_and_theme(sim, kind):
    with launch(kind, sim) as app:
        async with app.run_test(size=SIZE) as pilot:
            pane = await open_app(pilot, app, "trip-planner")
            city = pane.form.rows[0].control
            city.focus()
            await type_text(pilot, "Lyon")
            pane.prompt.focus()
            await type_text(pilot, "hi")
            await pilot.press("enter")
            await run_done(pilot, pane)  # sent: the form folds itself
            conversation = pane.conversation_id
            inputs = pane.query_one("#inputs", Collapsible)
            inputs.collapsed = False  # unfold, change a value without sending it, fold again
            await pilot.pause()
            city.value = ""
            city.focus()
            await type_text(pilot, "Kyoto")
            inputs.collapsed = True
            app.theme = "nord"
            await pilot.pause()
            await pilot.press("ctrl+q")
        ws_key = app.ws_key

    with launch(kind, sim) as again:
        assert again.ws_key == ws_key  # the demo's key does not carry its port
        async with again.run_test(size=SIZE) as pilot:
            pane = await wait_until(pilot, lambda: again.panes.get("trip-planner"), what="the app reopened")
            await wait_until(pilot, lambda: pane.form is not None, what="its form")
            await pilot.pause()
            assert again.current_pane is pane
            assert again.theme == "nord"
            assert pane.conversation_id == conversation
            assert pane.form.rows[0].control.value == "Kyoto"
            assert pane.query_one("#inputs", Collapsible).collapsed is True
            await wait_until(pilot, lambda: pane.log_view.query(".history-sep"), what="the conversation")


async def test_the_demo_keeps_one_app_cache_row_across_launches(tmp_path):
    keys = set()
    for _ in range(2):
        with launch("demo", None) as app:
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(pilot, lambda: all(i.mode for i in app.app_items()), what="app list")
                await pilot.press("ctrl+q")
            keys.add(app.ws_key)
    assert len(keys) == 1
    with Store() as store:
        rows = store._conn.execute("SELECT ws FROM app_cache").fetchall()
    assert rows == [(workspace_key(app.workspace),)]


async def test_a_form_left_unfolded_and_never_sent_comes_back_unfolded_with_its_text(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        pane.form.rows[0].control.focus()
        await type_text(pilot, "Kettle")
        await pilot.press("ctrl+q")

    again = console(sim)
    async with again.run_test(size=SIZE) as pilot:
        pane = await wait_until(pilot, lambda: again.panes.get("copywriter"), what="the last app reopened")
        await wait_until(pilot, lambda: pane.form is not None, what="its form")
        await pilot.pause()
        assert pane.form.rows[0].control.value == "Kettle"
        assert pane.query_one("#inputs", Collapsible).collapsed is False
        assert isinstance(again.focused, Input)  # the reopened app has focus, as opening it gives
    with Store() as store:
        # Never sent: not recorded as the app's last inputs (which CLI follow-ups reuse).
        assert store.inputs(workspace_key(again.workspace), "copywriter") == {}
