"""Human Input forms in the console (issue 12): a paused run shows its form in place, an action
resumes it and the rest streams into the same pane; a pending form survives a restart.

Every wait is on recorded state (the pane's widgets, the simulator's requests), never the clock.
"""

from __future__ import annotations

from typing import Any

from difytui.run_records import RunRecords
from difytui.store import Store
from difytui.tui.widgets.human_input_form import HumanInputFormView
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.timeline import NodeTimeline
from difytui.tui.widgets.workflow_pane import OutputsView

from .conftest import SIZE, apps_loaded, console, open_app, run_done, screen_text, type_text, wait_until

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


async def start_chat(pilot: Any, app: Any, city: str, text: str) -> Any:
    """hi-chat: its city input, then ``text`` from the prompt (it pauses after a first answer)."""
    pane = await open_app(pilot, app, "hi-chat", typed="hi-chat")
    pane.form.rows[0].control.value = city
    pane.prompt.focus()
    await type_text(pilot, text)
    await pilot.press("enter")
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
        assert not view.query_one(".hi-actions").display  # its note says which; nothing to press
        timeline_text = pane.query_one(".timeline", NodeTimeline).render_text().plain
        assert "→ Approve" in timeline_text and "form filled" in timeline_text
        submits = [r for r in sim.requests if "/form/human_input/" in r.path and r.method == "POST"]
        listens = [r for r in sim.requests if r.path.endswith("/events")]
        assert len(submits) == 1 and listens, "the listener is opened before the submit"
        assert sim.requests.index(listens[-1]) < sim.requests.index(submits[0])
    # The run's record went on with it (the Runs view showed it paused, once it had finished).
    with Store() as store:  # the console's own, in this test's data directory
        records = RunRecords(store)
        (record,) = records.find(app.ws_key, "approval")
        assert record.status == "succeeded" and record.outputs["decision"] == "approve"
        kinds = [event["event"] for event in records.events(record.id)]
        assert kinds.count("workflow_paused") == 1  # the resumed stream's replay of the run is left out
        assert kinds.index("workflow_paused") < kinds.index("human_input_form_filled") < len(kinds) - 1


async def test_a_chatflow_shows_the_whole_answer_though_the_resumed_stream_drops_its_text(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_chat(pilot, app, "Paris", "hello")
        view = await paused_form(pilot, pane)
        before = pane.log_view.query(AnswerView).first()
        assert before.text == "pre-pause: hello @ Paris. "
        assert view.rows["ref"].raw() == "Paris"  # resolved_default_values win over the constant
        view.rows["choice"].control.value = "b"
        await pilot.press("f5")
        await run_done(pilot, pane)
        after = list(pane.log_view.query(AnswerView))[-1]
        # Dify 1.14.2 streams the pre-pause text again and drops this (workflow_finished has it)
        assert after.text == "after-resume: city=Paris note=looks good choice=b ref=Paris action=approve"
        assert pane.active is None and view.state == "submitted"


async def test_dify_s_refusal_shows_on_the_field_and_the_form_can_be_sent_again(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "hi-wf", "t1")
        view = await paused_form(pilot, pane)
        await pilot.press("f5")  # the select is still blank: Dify refuses it
        choice = view.rows["choice"]
        await wait_until(pilot, lambda: choice.invalid, what="the field's error")
        error = str(choice.query_one(".field-error").render())
        assert "Invalid value for select input 'choice'" in error
        assert view.state == "pending" and not view.disabled and pane.active is None
        assert not view.rows["note"].invalid
        choice.control.value = "a"
        await pilot.press("f6")  # Reject
        await run_done(pilot, pane)
        outputs = await wait_until(pilot, lambda: list(pane.query(OutputsView)), what="outputs")
        assert outputs[0].outputs["action"] == "reject" and outputs[0].outputs["choice"] == "a"


async def test_a_pending_form_survives_a_restart_and_can_be_submitted(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "approval", "v3")
        await paused_form(pilot, pane)
    again = console(sim, keys=keys(sim))
    async with again.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, again, "approval", typed="approval")
        view = await wait_until(pilot, lambda: pane.pending_form_views(), what="restored form")
        view = view[0]
        assert view.restored and "v3 ships this week" in view.form.form_content
        await pilot.pause()
        view.first_control().focus()
        await pilot.press("f5")
        await run_done(pilot, pane)
        outputs = await wait_until(pilot, lambda: list(pane.query(OutputsView)), what="outputs")
        assert outputs[0].outputs == {"topic": "v3", "decision": "approve", "note": "Looks good to me."}
    third = console(sim, keys=keys(sim))
    async with third.run_test(size=SIZE) as pilot:  # submitted: not offered again
        pane = await open_app(pilot, third, "approval", typed="approval")
        await pilot.pause()
        assert pane.form_views() == []


async def test_two_forms_in_a_row(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "hi-wf-two", "t2")
        first = await paused_form(pilot, pane)
        first.rows["choice"].control.value = "b"
        first.rows["note"].control.text = "first note"
        await pilot.press("f5")
        second = await wait_until(
            pilot, lambda: [v for v in pane.pending_form_views() if v is not first], what="second form"
        )
        second = second[0]
        await run_done(pilot, pane)
        assert first.state == "submitted"
        assert second.rows["comment"].raw() == "first note"  # its default is the first form's note
        second.first_control().focus()
        await pilot.press("f5")
        await run_done(pilot, pane)
        outputs = await wait_until(pilot, lambda: list(pane.query(OutputsView)), what="outputs")
        assert outputs[0].outputs == {"note": "first note", "comment": "first note", "action": "ok"}


async def test_a_form_not_delivered_to_the_web_app_says_it_cannot_be_filled_here(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "hi-wf-nodeliv", "t4")
        view = await paused_form(pilot, pane)
        assert not view.query("Button") and not view.rows
        assert "can't be filled from here" in str(view.query_one(".hi-not-here").render())


async def test_a_form_submitted_elsewhere_says_so_and_shows_the_run_as_dify_has_it(sim):
    from difytui.client import AsyncDify

    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "hi-wf", "t5")
        view = await paused_form(pilot, pane)
        other = AsyncDify(base_url=sim.base_url, apps=keys(sim), user="tester")
        inputs = {"note": "elsewhere", "choice": "a", "ref": "r"}
        run_id = view.form.workflow_run_id
        stream = await other.app.events("hi-wf", run_id, include_state_snapshot=True, continue_on_pause=True)
        await other.app.human_input.submit("hi-wf", view.form.form_token, inputs, "approve")
        async for _event in stream:
            pass
        await other.aclose()
        view.rows["choice"].control.value = "b"
        await pilot.press("f5")
        await run_done(pilot, pane)
        outputs = await wait_until(pilot, lambda: list(pane.query(OutputsView)), what="outputs")
        assert outputs[0].outputs["note"] == "elsewhere"
        assert view.state == "submitted" and "already been submitted" in screen_text(app)


async def test_the_palette_lists_pending_forms_and_opens_one_at_its_form(sim):
    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_workflow(pilot, app, "approval", "v4")
        await paused_form(pilot, pane)
    again = console(sim, keys=keys(sim))
    async with again.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, again)
        await pilot.press("ctrl+p")
        await type_text(pilot, "pending forms")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Approve the announcement (run" in screen_text(again), what="entry")
        await pilot.press("enter")
        pane = await wait_until(pilot, lambda: again.current_pane, what="the approval pane")
        assert pane.item.id == "approval"
        view = await wait_until(pilot, lambda: pane.pending_form_views(), what="its form")
        await wait_until(pilot, lambda: view[0].has_focus_within, what="the form focused")


async def test_a_chat_s_history_offers_its_pending_form(sim):
    """The form comes from GET /messages (extra_contents), not from difytui's own record."""
    from difytui.human_input_store import PendingForms
    from difytui.store import Store

    app = console(sim, keys=keys(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_chat(pilot, app, "Oslo", "hi")
        view = await paused_form(pilot, pane)
        token, ws = view.form.form_token, app.ws_key
    with Store() as store:
        PendingForms(store).remove(ws, token)
        assert PendingForms(store).pending(ws) == []
    again = console(sim, keys=keys(sim))
    async with again.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, again, "hi-chat", typed="hi-chat")
        views = await wait_until(pilot, lambda: pane.pending_form_views(), what="the history's form")
        assert [v.form.form_token for v in views] == [token]
        views[0].rows["choice"].control.value = "a"
        views[0].first_control().focus()
        await pilot.press("f5")
        await run_done(pilot, pane)
        after = list(pane.log_view.query(AnswerView))[-1]
        # the history shows the text before the pause; this is the rest
        assert after.text == "after-resume: city=Oslo note=looks good choice=a ref=Oslo action=approve"
