"""Human Input forms in the console (issue 12): a paused run shows its form in place, an action
resumes it and the rest streams into the same pane; a pending form survives a restart.

Every wait is on recorded state (the pane's widgets, the simulator's requests), never the clock.
"""

from __future__ import annotations

from typing import Any

from difytui.tui.widgets.human_input_form import HumanInputFormView
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.timeline import NodeTimeline
from difytui.tui.widgets.workflow_pane import OutputsView

from .conftest import SIZE, console, open_app, run_done, screen_text, type_text, wait_until

APPS = ("approval", "hi-chat", "hi-wf", "hi-wf-two", "hi-wf-nodeliv", "support-bot")


def keys(sim: Any) -> dict[str, str]:
    return {app_id: sim.api_keys[app_id] for app_id in APPS}


async def paused_form(pilot: Any, pane: Any, count: int = 1) -> HumanInputFormView:
    await run_done(pilot, pane)
    views = await wait_until(
        pilot, lambda: [v for v in pane.pending_form_views() if v.is_mounted] or None, what="form"
    )
    await wait_until(pilot, lambda: len(pane.form_views()) >= count, what=f"{count} forms")
    await pilot.pause()
    return views[-1]


async def start_workflow(pilot: Any, app: Any, app_id: str, value: str) -> Any:
    pane = await open_app(pilot, app, app_id, typed=app_id)
    pane.form.rows[0].control.focus()
    await type_text(pilot, value)
    await pilot.press("ctrl+r")
    return pane


async def test_approval_pauses_shows_the_form_and_approve_streams_the_rest(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "approval", "v2")
        view = await paused_form(pilot, pane)
        text = screen_text(app)
        assert "Draft announcement for" in text and "v2 ships this week" in text
        assert "{{#$output" not in text  # the placeholder is the field itself
        note = view.rows["note"]
        assert note.raw() == "Looks good to me."  # the constant default
        assert pane.active is None  # paused: nothing to stop (Dify ignores stops on a paused run)
        note.control.text = "Ship it!"
        note.control.focus()
        await pilot.press("f5")  # the first action: Approve
        await run_done(pilot, pane)
        outputs = await wait_until(pilot, lambda: list(pane.query(OutputsView)), what="outputs")
        assert outputs[0].outputs == {"topic": "v2", "decision": "approve", "note": "Ship it!"}
        assert view.state == "submitted"
        timeline_text = pane.query_one(".timeline", NodeTimeline).render_text().plain
        assert "→ Approve" in timeline_text and "form filled" in timeline_text
        submits = [r for r in sim.requests if "/form/human_input/" in r.path and r.method == "POST"]
        listens = [r for r in sim.requests if r.path.endswith("/events")]
        assert len(submits) == 1 and listens, "the listener is opened before the submit"
        assert sim.requests.index(listens[-1]) < sim.requests.index(submits[0])
