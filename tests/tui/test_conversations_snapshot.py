"""Snapshots of the conversation list (f2) at 80×24 and 160×48: Dify's conversations, newest
first, the open one marked, and one that only the local records know.

Update with ``pytest tests/tui/test_conversations_snapshot.py --snapshot-update`` after checking it.
"""

from __future__ import annotations

import time

import pytest

from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole

from .conftest import open_app, wait_until, workspace_for
from .test_conversations import CHAT, START_TIME, open_list, seed_conversations


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """The list shows local times: the same ones on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_conversation_list(snap_compare, sim, size):
    ids = seed_conversations(sim, 40)
    store = Store()
    ws = workspace_for(sim)
    store.set_conversation(workspace_key(ws), CHAT, ids[-2])  # the pane's: marked
    lost = "5f1e2b9a-0000-4000-8000-000000000001"
    store.set_conversation_inputs(workspace_key(ws), CHAT, lost, {"customer_name": "Lin"})
    # recorded when the seeded conversations were (not at the test's real time)
    store.write(None, lambda db: db.execute("UPDATE conversation_inputs SET updated_at = ?", (START_TIME,)))

    async def run_before(pilot):
        app = pilot.app
        pane = await open_app(pilot, app, CHAT)
        # its one message read: the list shows the count
        await wait_until(pilot, lambda: pane.history_complete, what="the pane's conversation")
        screen = await open_list(pilot, app)
        await wait_until(pilot, lambda: screen.complete, what="the whole list")
        table = screen.table
        for _ in range(200):  # the table sizes its columns on its next Idle (see the Tests view's)
            if not table._updated_cells and not table._require_update_dimensions:
                break
            await pilot.pause()
        await pilot.pause()

    assert snap_compare(DifyConsole(ws, store=store), terminal_size=size, run_before=run_before)
