"""The console through a dropped stream: the library re-attaches, the pane shows the whole answer and
says "reconnected" in the stats line (no HTTP in the TUI: all of it comes from AsyncDify)."""

from __future__ import annotations

from difytui.tui.widgets.response_log import AnswerView, Notice

from .conftest import console, open_app, run_done, type_text


def _notices(pane) -> str:
    return "\n".join(str(notice.render()) for notice in pane.log_view.query(Notice))


async def test_a_dropped_chatflow_is_reattached_and_shows_the_whole_answer(sim):
    # 5 answer pieces are made while nobody listens: only workflow_finished's outputs hold them.
    sim.add_fault("/v1/chat-messages", "drop", after=20, gap=5)
    app = console(sim)
    async with app.run_test() as pilot:
        pane = await open_app(pilot, app, "trip-planner")
        await type_text(pilot, "Lyon")
        pane.prompt.focus()
        await type_text(pilot, "food")
        await pilot.press("enter")
        await run_done(pilot, pane)
        [run] = [run for run in sim.state.workflow_runs.values() if run.outputs]
        answer = pane.log_view.query(AnswerView).last()
        assert answer.status == "done" and answer.text == run.outputs["answer"]
        assert "reconnected 1×" in str(pane.stats.render())
        assert "re-attached to the run" in _notices(pane)
        [request] = [r for r in sim.requests if r.path.startswith("/v1/workflow/")]
        assert request.query["include_state_snapshot"] == "true"
