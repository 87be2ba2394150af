"""The console's run worker against a server whose run ends unreadably (real AsyncDify, raw bytes)."""

from __future__ import annotations

import json

from faults.server import FaultServer
from faults.wire import block, head

from difytui.client import AsyncDify
from difytui.tui import messages as m
from difytui.tui.models import RunRequest
from difytui.tui.runner import stream_run

STARTED = {"event": "workflow_started", "task_id": "t1", "workflow_run_id": "r1", "data": {"id": "r1"}}


async def run_with_finish(data: object) -> list[object]:
    server = FaultServer().start()
    server.app("app-raw", "workflow")
    finish = {"event": "workflow_finished", "task_id": "t1", "workflow_run_id": "r1", "data": data}
    server.serve(head() + block(STARTED) + block(finish))
    posted: list[object] = []
    try:
        async with AsyncDify(base_url=server.base_url, apps={"a": "app-raw"}, user="u") as client:
            request = RunRequest(app_id="a", interface="workflow", inputs={})
            await stream_run(client, request, 1, posted.append)
    finally:
        server.stop()
    return posted


async def test_a_workflow_finished_without_a_status_ends_the_run_as_failed_not_succeeded():
    for data in (None, {}, {"status": None, "outputs": {}}):
        posted = await run_with_finish(data)
        assert not [p for p in posted if isinstance(p, m.RunFinished)], json.dumps(data)
        failed = [p for p in posted if isinstance(p, m.RunFailed)]
        assert len(failed) == 1 and "could not be read" in failed[0].message


async def test_a_readable_finish_still_succeeds():
    posted = await run_with_finish({"status": "succeeded", "outputs": {"x": 1}})
    finished = [p for p in posted if isinstance(p, m.RunFinished)]
    assert [f.status for f in finished] == ["succeeded"]
