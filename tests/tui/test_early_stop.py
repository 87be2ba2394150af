"""A stop that lands early reads as stopped in the console, not as a failure (issue 7).

Dify 1.14.2 ends an early-stopped run's stream with ``workflow_finished`` ``status: failed``, error
"Aborted: User requested stop" (its record says ``stopped``). The simulator does the same for a stop
that lands before the engine started its first node after Start; the ``hold`` fault keeps the run
there until the stop arrives, so the tests do not depend on the machine's speed.
"""

from __future__ import annotations

import httpx

from difytui.tui.widgets.response_log import AnswerView, Notice
from difytui.tui.widgets.timeline import NodeTimeline

from .conftest import console, open_app, requests_to, run_done, type_text, wait_until


def _notices(pane) -> str:
    return "\n".join(n.text for n in pane.log_view.query(Notice))


def _record(sim, app_id: str, run_id: str) -> dict:
    headers = {"Authorization": f"Bearer {sim.api_keys[app_id]}"}
    return httpx.get(f"{sim.base_url}/workflows/run/{run_id}", headers=headers, timeout=10).json()


async def _start_held_workflow(pilot, app, sim):
    """Run report-builder; the simulator holds it after workflow_started and the first text_chunk."""
    sim.add_fault("/v1/workflows/run", "hold", after=2)
    pane = await open_app(pilot, app, "report-builder")
    await type_text(pilot, "Stops")
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: len(pane.raw.events) >= 2, what="the held events")
    return pane


async def test_an_early_stop_from_dify_reads_as_stopped(sim):
    """Stopped elsewhere (Dify's web app): the stream itself brings the early stop's failed status."""
    app = console(sim)
    async with app.run_test() as pilot:
        pane = await _start_held_workflow(pilot, app, sim)
        run = pane.active
        task_id = next(iter(sim.running_tasks))
        headers = {"Authorization": f"Bearer {sim.api_keys['report-builder']}"}
        stop = httpx.post(
            f"{sim.base_url}/workflows/tasks/{task_id}/stop", json={"user": "web"}, headers=headers
        )
        assert stop.json() == {"result": "success"}
        await run_done(pilot, pane)
        finished = pane.raw.events[-1]
        # What Dify sent: failed + "Aborted: …"; what the console shows: stopped.
        assert finished["event"] == "workflow_finished"
        assert (finished["data"]["status"], finished["data"]["error"]) == (
            "failed",
            "Aborted: User requested stop",
        )
        assert run.answer is not None and run.answer.status == "stopped"
        assert "The run failed" not in _notices(pane)
        assert "✗" not in pane.log_view.query_one(NodeTimeline).render_text().plain
        assert _record(sim, "report-builder", finished["workflow_run_id"])["status"] == "stopped"


async def test_escape_early_reads_as_stopped(sim):
    app = console(sim)
    async with app.run_test() as pilot:
        pane = await _start_held_workflow(pilot, app, sim)
        run = pane.active
        task_id = next(iter(sim.running_tasks))
        await pilot.press("escape")
        await wait_until(pilot, lambda: task_id in sim.stopped_tasks, what="the stop to reach Dify")
        assert requests_to(sim, f"/workflows/tasks/{task_id}/stop")
        await wait_until(pilot, lambda: "Stopped." in _notices(pane), what="the stopped notice")
        assert pane.active is None
        answer = pane.log_view.query_one(AnswerView)
        assert answer is run.answer and answer.status == "stopped"
        assert "failed" not in _notices(pane).lower()
        assert "✗" not in pane.log_view.query_one(NodeTimeline).render_text().plain


async def test_timeline_with_text_before_the_first_node_and_every_index_1(sim):
    """Real streams: text before any node event, index 1 on every node (iterations included)."""
    app = console(sim)
    async with app.run_test() as pilot:
        pane = await open_app(pilot, app, "report-builder")
        await type_text(pilot, "Order")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        kinds = [e.get("event") for e in pane.raw.events]
        assert kinds.index("text_chunk") < kinds.index("node_started")
        timeline = pane.log_view.query_one(NodeTimeline)
        text = timeline.render_text().plain
        # One line per node execution: Start, Plan, the iteration with its three rounds, End.
        assert [line.title for line in timeline.lines.values() if line.parent is None] == [
            "Start",
            "Plan sections",
            "Draft each section",
            "End",
        ]
        rounds = [timeline.lines[k].round for k in timeline.lines["c:draft_sections"].children]
        assert rounds == [1, 2, 3]
        assert "running" not in text and "✗" not in text


async def test_chatflow_answer_before_node_events_and_an_early_stop_from_dify(sim):
    """The Answer's first words arrive before any node event; the timeline goes above the answer.
    A second turn is stopped early from Dify: the partial answer stays, shown as stopped."""
    app = console(sim)
    async with app.run_test() as pilot:
        pane = await open_app(pilot, app, "trip-planner")
        await type_text(pilot, "Lyon")
        pane.prompt.focus()
        await type_text(pilot, "food")
        await pilot.press("enter")
        await run_done(pilot, pane)
        kinds = [e.get("event") for e in pane.raw.events]
        assert kinds.index("message") < kinds.index("node_started")
        answer = pane.log_view.query(AnswerView).last()
        assert answer.text.startswith("# Lyon in ") and answer.status == "done"
        children = list(pane.log_view.children)
        timeline = pane.log_view.query_one(".chat-timeline")
        assert children.index(timeline) < children.index(answer)

        sim.add_fault("/v1/chat-messages", "hold", after=3)  # workflow_started and two words
        pane.prompt.focus()
        await type_text(pilot, "more")
        await pilot.press("enter")
        await wait_until(pilot, lambda: sim.running_tasks, what="the second turn")
        task_id = next(iter(sim.running_tasks))
        headers = {"Authorization": f"Bearer {sim.api_keys['trip-planner']}"}
        httpx.post(f"{sim.base_url}/chat-messages/{task_id}/stop", json={"user": "tester"}, headers=headers)
        await run_done(pilot, pane)
        assert pane.raw.events[-1]["data"]["status"] == "failed"  # as Dify sends it
        stopped = pane.log_view.query(AnswerView).last()
        assert stopped.status == "stopped" and stopped.text == "# Lyon"
        assert "The run failed" not in _notices(pane)
