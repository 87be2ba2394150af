"""The compare screen (issue 11) on two runs recorded from the simulator: the differing node is
marked with a glyph, server text stays literal, and snapshots at 80×24 and 160×48.

Update the snapshots with ``pytest tests/tui/test_run_compare_screen.py --snapshot-update`` after
checking the SVGs.
"""

from __future__ import annotations

import dataclasses

import pytest
from recorded_runs import record_workflow
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from difytui.run_records import RunRecords
from difytui.store import Store
from difytui.tui.screens.run_compare import DIFFERS, ONLY_RIGHT, CompareRunsScreen

from .conftest import wait_until

LEFT = {"topic": "SSE", "audience": "engineers", "sections": 2}
RIGHT = {"topic": "SSE", "audience": "managers", "sections": 3, "notes": "[bold]ops[/bold]"}


class Host(App[None]):
    def __init__(self, screen: CompareRunsScreen) -> None:
        super().__init__()
        self.compare = screen

    def on_mount(self) -> None:
        self.push_screen(self.compare)


def two_runs(sim, tmp_path) -> CompareRunsScreen:
    records = RunRecords(Store(tmp_path / "state.db"))
    left, left_events = record_workflow(sim, records, LEFT)
    right, right_events = record_workflow(sim, records, RIGHT)
    # the server's wall-clock totals vary from run to run: fixed here, so the snapshots are stable
    left, right = dataclasses.replace(left, elapsed=1.25), dataclasses.replace(right, elapsed=1.5)
    return CompareRunsScreen(left, right, left_events, right_events)


def text_of(screen: CompareRunsScreen, selector: str) -> str:
    static = screen.query_one(selector, Static)
    app = screen.app
    lines = app.console.render_lines(static.content, app.console.options.update_width(150))
    return "\n".join("".join(seg.text for seg in line) for line in lines)


async def test_the_differing_node_is_marked(sim, tmp_path):
    screen = two_runs(sim, tmp_path)
    async with Host(screen).run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert pilot.app.screen is screen
        nodes = text_of(screen, "#compare-nodes")
        plan = next(line for line in nodes.splitlines() if "Plan sections" in line)
        assert plan.lstrip().startswith(DIFFERS) and plan.rstrip().endswith("out")
        third = next(line for line in nodes.splitlines() if "#3 Draft section" in line)
        assert third.lstrip().startswith(ONLY_RIGHT) and "did not run" in third
        # a server string that looks like markup shows as typed
        assert "[bold]ops[/bold]" in text_of(screen, "#compare-inputs")
        await pilot.press("n")
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is not screen


async def test_the_keyboard_scrolls_the_comparison(sim, tmp_path):
    screen = two_runs(sim, tmp_path)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        body = screen.query_one("#compare-body", VerticalScroll)
        assert body.has_focus and body.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        body.scroll_home(animate=False)
        await pilot.pause()
        await pilot.press("n")  # the first differing node's row at the top
        await pilot.pause()
        nodes = screen.query_one("#compare-nodes", Static)
        assert body.scroll_y == nodes.virtual_region.y + 2


async def diffed(pilot) -> CompareRunsScreen:
    """The screen once its worker has filled in the outputs' diffs."""
    screen = await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, CompareRunsScreen) and pilot.app.screen
    )
    await wait_until(pilot, lambda: screen.diffed, what="the outputs' diffs")
    await pilot.pause()
    return screen


async def test_the_outputs_diff_arrives_from_a_worker(sim, tmp_path):
    screen = two_runs(sim, tmp_path)
    assert screen.comparison.diff == []  # not computed on the UI thread
    async with Host(screen).run_test(size=(160, 48)) as pilot:
        await diffed(pilot)
        diff = text_of(screen, "#compare-diff")
        assert "comparing…" not in diff and '+    "audience": "managers",' in diff
        assert "Text of report" in diff and "+## Risks: SSE" in diff


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_compare_snapshot(snap_compare, sim, tmp_path, size):
    assert snap_compare(Host(two_runs(sim, tmp_path)), terminal_size=size, run_before=diffed)


async def test_a_node_error_shows_literally_under_the_table(sim, tmp_path):
    screen = two_runs(sim, tmp_path)
    plan = next(e for e in screen.comparison.nodes if e.node_id == "plan")
    plan.right.error = "[bold]quota[/bold] \x1b[31m"
    async with Host(screen).run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "✗ Plan sections  left: —  right: [bold]quota[/bold] ␛[31m" in text_of(
            screen, "#compare-nodes"
        )
