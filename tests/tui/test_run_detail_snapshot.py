"""Snapshots of a recorded run's detail at 80×24 and 160×48: summary line, inputs, the node
timeline with one node opened (its JSON highlighted; server text with markup and an escape
sequence shown literally), outputs.

Update with ``pytest tests/tui/test_run_detail_snapshot.py --snapshot-update`` after checking it.
"""

from __future__ import annotations

import pytest
from textual.app import App

from difytui.run_records import summarize
from difytui.tui.screens.run_detail import RunDetailScreen
from difytui.tui.widgets.json_section import JsonSection

STARTED = 1764500000.0  # 2025-11-30 10:53:20 UTC


def node(kind: str, exec_id: str, node_id: str, title: str, node_type: str, **data: object) -> dict:
    return {
        "event": kind,
        "task_id": "task-1",
        "workflow_run_id": "run-1",
        "data": {"id": exec_id, "node_id": node_id, "title": title, "node_type": node_type, **data},
    }


EVENTS = [
    {"event": "workflow_started", "task_id": "task-1", "workflow_run_id": "run-1", "data": {"id": "run-1"}},
    node("node_started", "e1", "start", "Start", "start"),
    node("node_finished", "e1", "start", "Start", "start", status="succeeded", elapsed_time=0.01,
         inputs={"topic": "Rivers"}, outputs={"topic": "Rivers"}),
    node("node_started", "e2", "llm", "Draft [bold]intro[/bold]", "llm"),
    node("node_finished", "e2", "llm", "Draft [bold]intro[/bold]", "llm", status="succeeded",
         elapsed_time=1.25, inputs={"prompt": "Write about Rivers"},
         outputs={"text": "Rivers [red]run[/red] to the sea \x1b[31m."},
         process_data={"model": "gpt-sim", "temperature": 0.2},
         execution_metadata={"total_tokens": 321, "total_price": "0.0006", "currency": "USD"}),
    node("node_started", "e3", "end", "End", "end"),
    node("node_finished", "e3", "end", "End", "end", status="succeeded", elapsed_time=0.0,
         outputs={"report": "Rivers run to the sea."}),
    {"event": "workflow_finished", "task_id": "task-1", "workflow_run_id": "run-1",
     "data": {"status": "succeeded", "outputs": {"report": "Rivers run to the sea."},
              "elapsed_time": 1.31, "total_tokens": 321}},
]  # fmt: skip


class DetailApp(App[None]):
    def on_mount(self) -> None:
        record, events = summarize(
            "report-builder", "workflow", {"topic": "Rivers"}, EVENTS, started=STARTED, finished=STARTED + 1.4
        )
        self.push_screen(RunDetailScreen(record, events, title="Report Builder"))


pytestmark = pytest.mark.usefixtures("utc")  # the times shown: the same on every machine


async def open_llm_node(pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, RunDetailScreen)
    node = screen.query_one("#run-node-1", JsonSection)
    node.collapsed = False
    while not node.rendered:  # its body is built when it opens: wait for that, not for time
        await pilot.pause()
    # Opening scrolls the node into view (animated, after a refresh): let that finish, then show
    # the top, so the picture is the same however loaded the machine is.
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    screen.query_one("#run-detail-body").scroll_home(animate=False)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_run_detail(snap_compare, size):
    assert snap_compare(DetailApp(), terminal_size=size, run_before=open_llm_node)
