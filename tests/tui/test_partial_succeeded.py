"""A ``partial-succeeded`` workflow (some nodes failed, their errors were handled) is a success with a
warning: the CLI exits 0 and prints its outputs, so the console shows them too, marked ⚠, never ✗."""

from __future__ import annotations

from faults.server import FaultServer
from faults.wire import F, S, T, block, head

from difytui.config import AppEntry, Workspace
from difytui.tui.app import DifyConsole
from difytui.tui.widgets.response_log import AnswerView, Notice
from difytui.tui.widgets.timeline import NodeTimeline
from difytui.tui.widgets.workflow_pane import OutputsView

from .conftest import SIZE, open_app, run_done, screen_text

FINISHED = {**F, "data": {**F["data"], "status": "partial-succeeded", "exceptions_count": 1}}


async def test_a_partial_succeeded_run_reads_as_a_success_with_a_warning():
    server = FaultServer().start()
    try:
        server.app("app-partial", "workflow")
        server.serve(head(), block(S), block(T), block(FINISHED))
        apps = {"partial": AppEntry.from_key("partial", "app-partial")}
        workspace = Workspace(name="w", base_url=server.base_url, user="tester", apps=apps, source="test")
        app = DifyConsole(workspace)
        async with app.run_test(size=SIZE) as pilot:
            pane = await open_app(pilot, app, "partial")
            await pilot.press("ctrl+r")
            await run_done(pilot, pane)
            shown = screen_text(app)
            # The stats line and the answer's status: a warning-style success, as the CLI exits 0.
            assert "⚠ partial-succeeded" in shown and "✗" not in shown, shown
            answer = pane.log_view.query_one(AnswerView)
            assert str(answer.status_line.render()) == "⚠ partial-succeeded"
            assert "✗" not in pane.log_view.query_one(NodeTimeline).render_text().plain
            assert not [n for n in pane.log_view.query(Notice) if "failed" in n.text.lower()]
            # Its outputs are shown, as for a success.
            assert pane.log_view.query_one(OutputsView).outputs == F["data"]["outputs"]
    finally:
        server.stop()
