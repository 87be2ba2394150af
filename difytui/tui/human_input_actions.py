"""What a pane does with Human Input forms (issue 12): show them, submit them, follow the rest.

Mixed into :class:`AppPane` (handlers by name, ``on_<message>``: Textual calls them for every class
of the pane's MRO). A pause (``FormsPending``) records its forms (``human_input_store``, so they
survive a restart) and shows each one in place in the log, after the paused run's answer. An
action starts a resume run in the pane's :class:`RunController`: ``resume_worker.resume_run`` opens
the listener, submits, and streams the rest into the run's timeline and a new answer view under
the form. While
a run is paused nothing runs, so Escape (stop) is not offered: Dify ignores stops on a paused run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from difytui.human_input import HumanInputForm
from difytui.tui import messages as m
from difytui.tui.models import RunRequest
from difytui.tui.resume_worker import FormSubmit, resume_run
from difytui.tui.run_controller import ActiveRun
from difytui.tui.run_recording import RunRecorder
from difytui.tui.widgets.human_input_form import HumanInputFormView
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.timeline import NodeTimeline

if TYPE_CHECKING:
    from difytui.tui.widgets.pane import AppPane

PAUSED_NOTE = "⏸ paused: the run waits for the form below"


@dataclass
class PausedRun:
    """Where a form's run shows: its request, timeline, conversation and the answer so far."""

    request: RunRequest
    timeline: NodeTimeline | None
    conversation_id: str | None
    answer_before: str = ""


class HumanInputActions:
    """The pane's Human Input part; ``self`` is an :class:`AppPane`."""

    #: form token → its paused run; run id → the form a resume run submitted (until it is filled)
    _hi_runs: dict[str, PausedRun]
    _hi_sending: dict[int, HumanInputFormView]
    _hi_before: dict[int, str]

    def _hi(self) -> AppPane:
        from difytui.tui.widgets.pane import AppPane

        assert isinstance(self, AppPane)
        if not hasattr(self, "_hi_runs"):
            self._hi_runs, self._hi_sending, self._hi_before = {}, {}, {}
        return self

    def form_views(self) -> list[HumanInputFormView]:
        return list(self._hi().query(HumanInputFormView))

    def pending_form_views(self) -> list[HumanInputFormView]:
        return [view for view in self.form_views() if view.state != "submitted"]

    # -- showing forms ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Forms a run of this app paused on in an earlier session (or another difytui)."""
        from difytui.human_input_store import PendingForms

        pane = self._hi()
        pending = PendingForms(pane.ctx.store).pending(pane.ctx.ws_key, pane.item.id)
        for item in pending:
            conversation = item.conversation_id or None
            request = RunRequest(pane.item.id, pane.interface, {}, conversation_id=conversation)
            pane.call_later(self.show_form, item.form, PausedRun(request, None, conversation), True)

    async def show_form(self, form: HumanInputForm, paused: PausedRun, restored: bool = False) -> None:
        """Mount ``form`` at the end of the log (once per token)."""
        pane = self._hi()
        if any(view.form.form_token == form.form_token for view in self.form_views()):
            return
        if paused.timeline is None:  # a restored run: its rest streams into a timeline of its own
            kind = "chat-timeline" if pane.interface == "chat" else "timeline"
            paused.timeline = NodeTimeline(classes=kind)
            await pane.log_view.add(paused.timeline)
        self._hi_runs[form.form_token] = paused
        view = HumanInputFormView(pane.item.id, form, restored=restored)
        await pane.log_view.add(view)
        pane.log_view.anchor()
        if form.display_in_ui and not pane.runs.running:
            self.focus_form(form.form_token)

    def focus_form(self, form_token: str) -> None:
        """Focus the form (its first field); asked before it is shown, when it is."""
        view = next((v for v in self.form_views() if v.form.form_token == form_token), None)
        target = view.first_control() if view is not None else None
        if target is not None:
            target.focus()

    async def show_history_forms(self, messages: list[dict[str, Any]], conversation_id: str | None) -> None:
        """A chat's history (``GET /messages``): turns paused on a form not yet submitted."""
        from difytui.human_input import forms_in_message

        pane = self._hi()
        for item in messages:
            for form in forms_in_message(item):
                request = RunRequest(pane.item.id, pane.interface, {}, conversation_id=conversation_id)
                shown = str(item.get("answer") or "")  # the turn's text before the pause
                await self.show_form(form, PausedRun(request, None, conversation_id, shown), restored=True)

    async def on_messages_page(self, message: m.MessagesPage) -> None:
        """A chat's history page (its paging mixin shows the turns; this, their pending forms)."""
        if message.pager is getattr(self, "_history_pager", None):
            await self.show_history_forms([item.raw for item in message.messages], message.conversation_id)

    async def on_forms_pending(self, message: m.FormsPending) -> None:
        pane = self._hi()
        run = pane.runs.current(message.run_id)
        if run is None:
            return
        answer = run.answer.text if run.answer is not None else ""
        for form in message.forms:
            if form.form_token and form.display_in_ui:
                pane.ctx.writer.record_form(pane.ctx.ws_key, pane.item.id, form, message.event)
            paused = PausedRun(run.request, run.timeline, run.conversation_id, answer)
            await self.show_form(form, paused)

    async def paused(self, run: ActiveRun) -> None:
        """The run ended on a pause (its forms are shown already): the form gets the focus."""
        if run.answer is not None:
            await run.answer.finish("done", PAUSED_NOTE)
        if run.timeline is not None:  # the node that waits is not cut short (timeline.finish)
            for line in run.timeline.lines.values():
                if line.status == "running":
                    line.status = "paused"
            run.timeline.refresh_text()
        views = [v for v in self.pending_form_views() if v.form.display_in_ui]
        target = views[-1].first_control() if views else None
        if target is not None:
            target.focus()

    # -- submitting -------------------------------------------------------------------------------

    async def on_human_input_form_view_submitted(self, message: HumanInputFormView.Submitted) -> None:
        message.stop()
        pane = self._hi()
        view = message.view
        paused = self._hi_runs.get(view.form.form_token)
        if paused is None:
            return
        run = pane.runs.begin(paused.request)
        if run is None:
            pane.notify("A run is in progress: wait for it (or Escape stops it).", severity="warning")
            return
        run.timeline = paused.timeline
        run.conversation_id = paused.conversation_id
        run.ids_seen = True
        run.answer = self._answer_view()
        await pane.log_view.mount(run.answer, after=view)
        view.sending(message.action)
        self._hi_sending[run.run_id] = view
        self._hi_before[run.run_id] = paused.answer_before
        job = FormSubmit(
            pane.item.id, view.form.workflow_run_id, view.form.form_token, message.values, message.action
        )
        record = pane.ctx.record
        # However it ends, the paused run's record goes on with what followed (the Runs view).
        done = (
            partial(record.resumed, pane.item.id, view.form.workflow_run_id)
            if isinstance(record, RunRecorder)
            else None
        )
        run.worker = pane.run_worker(
            resume_run(pane.ctx.client, job, run.run_id, pane.post_message, done),
            group="run",
            exit_on_error=False,
            name=f"resume {pane.item.id}",
        )

    def _answer_view(self) -> AnswerView:
        if self._hi().interface == "chat":
            return AnswerView(label="after the form")
        view = AnswerView(label="streamed output", classes="-preview")
        view.show(False)
        return view

    async def on_form_refused(self, message: m.FormRefused) -> None:
        pane = self._hi()
        view = self._hi_sending.get(message.run_id)
        if view is None:
            return
        pane.ctx.writer.forget_form(pane.ctx.ws_key, message.form_token)
        if not message.invalid:  # submitted elsewhere, expired, gone: the run's state follows
            view.done(f"✗ {message.message}: showing the run as Dify has it now")
            return
        del self._hi_sending[message.run_id]
        run, _ = pane.runs.end(message.run_id)
        if run is not None and run.answer is not None:
            await run.answer.remove()
        view.show_refusal(message.message)
        pane.ctx.writer.record_form(pane.ctx.ws_key, pane.item.id, view.form, {})
        target = view.first_control()
        if target is not None:
            target.focus()

    async def on_form_filled(self, message: m.FormFilled) -> None:
        pane = self._hi()
        run = pane.runs.event(message.run_id, message.received_at)
        pane.raw.record(message.event)
        if run is None:
            return
        data = message.event.get("data")
        data = data if isinstance(data, dict) else {}
        view = self._hi_sending.pop(message.run_id, None)
        if view is not None:
            view.done(f"✓ submitted: {data.get('action_text') or data.get('action_id') or ''}")
            pane.ctx.writer.forget_form(pane.ctx.ws_key, view.form.form_token)
        if run.timeline is not None:
            run.timeline.apply(filled_row(data))

    async def on_final_answer(self, message: m.FinalAnswer) -> None:
        """A resumed chatflow's whole answer: the part after what the paused answer showed."""
        pane = self._hi()
        run = pane.runs.current(message.run_id)
        if run is None or run.answer is None or pane.interface != "chat":
            return
        before = self._hi_before.get(run.run_id, "")
        rest = message.text[len(before) :] if before and message.text.startswith(before) else message.text
        if run.answer.text != rest:
            await run.answer.replace(rest)

    def on_run_failed(self, message: m.RunFailed) -> None:
        view = self._hi()._hi_sending.pop(message.run_id, None)
        if view is not None:  # the submit never got through: the form can be sent again
            view.show_refusal(message.message)


def filled_row(data: dict[str, Any]) -> dict[str, Any]:
    """A timeline row for ``human_input_form_filled``: the form's node and the action taken."""
    action = str(data.get("action_text") or data.get("action_id") or "?")
    return {
        "event": "node_finished",
        "data": {
            "id": f"filled:{data.get('node_id')}",
            "node_id": str(data.get("node_id") or ""),
            "title": f"→ {action}",  # under the form's own node row
            "node_type": "form filled",
            "status": "succeeded",
        },
    }


def open_pending_form(app: Any, app_id: str, form_token: str) -> None:
    """Palette "Pending forms": open the form's app (its pane restores the form) and focus it."""
    app.open_app(app_id)
    pane = app.panes.get(app_id)
    if pane is not None:
        pane.want_focus = False  # the form gets it, not the app's own first field
        pane.call_after_refresh(pane.focus_form, form_token)
