"""Snapshots of a paused run's Human Input form (the demo's Approval app) at 80x24 and 160x48.

Update with ``pytest tests/tui/test_human_input_snapshots.py --snapshot-update`` after checking the
report.
"""

from __future__ import annotations

import pytest

from .test_human_input_console import paused_form, start_workflow
from .test_snapshots import fake_clock, settle

__all__ = ["fake_clock"]  # the fake clock (autouse there) keeps the stats line the same every run


@pytest.fixture(autouse=True)
def _same_stats_line(fake_clock):
    """The fake clock, also here."""


async def approval_paused(pilot) -> None:
    pane = await start_workflow(pilot, pilot.app, "approval", "v2")
    await paused_form(pilot, pane)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_the_approval_form(snap_compare, sim, size):
    from .conftest import console

    assert snap_compare(console(sim), terminal_size=size, run_before=approval_paused)
