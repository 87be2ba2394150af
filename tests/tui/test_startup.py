"""Start-up: the console's first frame comes before the network, and everything still arrives after it."""

from __future__ import annotations

import os

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
