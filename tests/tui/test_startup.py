"""Start-up: the console's first frame comes before the network, and everything still arrives after it."""

from __future__ import annotations

import os

from textual import events

from difytui.demo import LazyDemo
from difytui.tui.app import DifyConsole, styles_dir

from .conftest import SIZE, apps_loaded, console, open_app


async def test_the_lazy_demo_serves_the_consoles_first_request():
    demo = LazyDemo(token_delay=0)
    try:
        app = DifyConsole(demo.workspace)
        async with app.run_test(size=SIZE) as pilot:
            await apps_loaded(pilot, app)  # names and modes came from the simulator it started
            assert demo.sim is not None and demo.sim.requests
            pane = await open_app(pilot, app, "support-bot")
            assert pane.form is not None
    finally:
        demo.stop()


def test_a_lazy_demo_nobody_asked_stops_without_starting():
    demo = LazyDemo()
    demo.stop()
    assert demo.sim is None
    assert demo._sock.fileno() == -1  # the socket is closed


async def test_the_panes_styles_are_read_before_a_pane_shows(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, "support-bot")
        for name in DifyConsole.LATE_STYLES:
            assert app.stylesheet.has_source(os.path.abspath(styles_dir() / name))
        assert app.current_pane is not None and app.current_pane.styles.padding.left == 1  # .app-pane


async def test_the_first_focus_goes_to_the_app_list_directly(sim):
    """Not to the filter box first ("*", Textual's default): moving on from it restyled it three
    times before the first frame (focus, blur, its validation). Run as the console runs: under
    run_test the app's on_mount focused the list before the screen's auto-focus looked."""
    focused: list[str | None] = []

    class Probe(DifyConsole):
        def get_default_screen(self):
            screen = super().get_default_screen()
            set_focus = screen.set_focus

            def recorded(widget, *args, **kwargs):
                if widget is not screen.focused:
                    focused.append(None if widget is None else widget.id)
                return set_focus(widget, *args, **kwargs)

            screen.set_focus = recorded
            return screen

        def on_ready(self, event: events.Ready) -> None:  # the first frame is drawn
            event.prevent_default()  # DifyConsole's: nothing after the first frame
            self.exit((list(focused), self.screen.AUTO_FOCUS))

    first_focus, auto_focus = await Probe(console(sim).workspace).run_async(headless=True, size=SIZE)
    assert first_focus == ["app-options"]
    assert auto_focus is None  # screens shown later focus as Textual does


def test_the_run_records_budget_comes_from_the_workspace_with_the_first_record(tmp_path):
    """The console hands the recorder the config's [records] settings, not a Budget: building one
    imported difytui.run_records (and its JSON/zlib helpers) before the first frame."""
    from difytui.config import RecordsBudget
    from difytui.store import Store
    from difytui.tui.run_recording import RunRecorder
    from difytui.tui.store_writer import StoreWriter

    store = Store(tmp_path / "state.db")
    writer = StoreWriter(store)
    try:
        recorder = RunRecorder(writer, "ws", settings=RecordsBudget(max_runs=7))
        assert recorder.records().budget.max_runs == 7
    finally:
        writer.close()
        store.close()


async def test_the_sidebar_and_the_welcome_sit_on_the_screen_itself(sim):
    """No container on screen but what shows something: each widget on screen draws its whole area
    at every full paint, covered or not (~1 ms of the first frame each for the one around the
    whole screen, the sidebar's around the app list and the panes' switcher around the welcome)."""
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        sidebar, welcome, panes = (app.query_one(f"#{name}") for name in ("sidebar", "welcome", "panes"))
        assert sidebar is app.app_list  # the app list is the sidebar
        assert sidebar.parent is welcome.parent is panes.parent is app.screen
        assert not panes.display  # the panes' switcher shows with the first app
        assert sidebar.region.right == welcome.region.x and sidebar.region.y == welcome.region.y == 0
        await open_app(pilot, app, "support-bot")
        assert panes.display and not welcome.display  # in the welcome's place
        assert panes.region.x == sidebar.region.right and panes.region.width == SIZE[0] - panes.region.x
