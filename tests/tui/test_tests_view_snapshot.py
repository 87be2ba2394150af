"""A snapshot of the Tests view at 80×24 (tests/tui/test_snapshots.py style): the Grader's two
demo cases run, a broken case file's file:line, and the first case's detail.

Update with ``pytest tests/tui/test_tests_view_snapshot.py --snapshot-update`` after checking it.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from difytui.bench import run_turn, turns
from difytui.tui.screens import tests_view

from .conftest import wait_until
from .test_tests_view import BROKEN, console_on, demo_cases, open_tests, run_keys


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    """Every run takes 0.00 s on the bench's clock, so the latency column is the same every time."""
    clock = SimpleNamespace(monotonic=lambda: 1000.0, time=time.time)
    monkeypatch.setattr(run_turn, "time", clock)
    monkeypatch.setattr(turns, "time", clock)


def test_tests_view_80x24(snap_compare, sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the view shows paths as given: relative ones are the same everywhere
    folder = demo_cases(tmp_path / "cases").relative_to(tmp_path)
    (folder / "broken.toml").write_text(BROKEN.replace("support-bot", "grader"))

    async def run_before(pilot):
        app = pilot.app
        screen = await open_tests(pilot, app, "grader")
        await run_keys(pilot, screen, "ctrl+r")
        await pilot.press("enter")
        assert isinstance(app.screen, tests_view.TestsScreen)
        # The DataTable sizes its columns to updated cells on its next Idle, which a loaded machine
        # may not have reached yet: wait for that recorded state, not for time.
        # (A count of pauses was not enough: the app may not go idle within them.)
        table = screen.table
        await wait_until(
            pilot,
            lambda: not table._updated_cells and not table._require_update_dimensions,
            what="the table's column widths",
        )
        await pilot.pause()

    assert snap_compare(console_on(sim, folder), terminal_size=(80, 24), run_before=run_before)
