"""What every app pane shares: its widgets and form (:mod:`.pane_view`), its run keys and runs.

The pane starts workers (from :mod:`difytui.tui.runner`) and shows what the messages they post
say; its :class:`RunController` decides what a message means for the run (current, late, stopped).
The pane never calls the client itself. Subclasses add the interface-specific parts.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import on
from textual.actions import SkipAction
from textual.binding import BindingType
from textual.worker import Worker, WorkerState

from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.case_capture import Transcript
from difytui.tui.human_input_actions import HumanInputActions
from difytui.tui.keys import RUN, STOP
from difytui.tui.models import AppItem, PaneContext, RunRequest
from difytui.tui.run_controller import ActiveRun, RunController
from difytui.tui.widgets.citations import Citations, sources
from difytui.tui.widgets.pane_view import PaneView
from difytui.tui.widgets.stats import PARTIAL, PARTIAL_MARK


class AppPane(HumanInputActions, PaneView):
    """Base class of the chat, workflow and completion panes: the widget (:class:`PaneView`), its
    run keys and what the runs' messages show."""

    # The run keys live on the pane, so the pane that has focus gets them (ids and texts: keys.py).
    # Subclasses add theirs (Textual merges BINDINGS along the class hierarchy).
    BINDINGS: ClassVar[list[BindingType]] = [RUN, STOP]

    def __init__(self, item: AppItem, ctx: PaneContext, **kwargs: Any) -> None:
        super().__init__(item, ctx, **kwargs)
        self.runs = RunController(self._send_stop, self._streaming)
        self.last_answer: str = ""
        self.transcript = Transcript()  # what Save as test case saves

    @property
    def active(self) -> ActiveRun | None:
        """The run in progress, if any."""
        return self.runs.active

    # -- keys -------------------------------------------------------------------------------------

    def action_run(self) -> None:
        """ctrl+r: validate and send (subclasses build the request)."""
        if self.runs.running:
            self.notify("A run is in progress: Escape stops it.", severity="warning")
            return
        request = self.build_request()
        if request is not None:
            self.call_later(self.start_run, request)

    def action_stop(self) -> None:
        """Escape: close the stream, ask Dify to stop the task, keep what arrived.

        On an idle pane the key goes on to the app (back to the app list)."""
        stopped = self.runs.stop()
        if stopped is None:
            raise SkipAction()
        self.call_later(self._mark_stopped, stopped.run, stopped.note)

    def action_toggle_raw(self) -> None:
        self.raw.display = not self.raw.display
        self.notify("Raw events shown." if self.raw.display else "Raw events hidden.", timeout=2)

    # -- runs -------------------------------------------------------------------------------------

    def build_request(self) -> RunRequest | None:
        raise NotImplementedError

    async def start_run(self, request: RunRequest) -> None:
        run = self.runs.begin(request)
        if run is None:
            return
        self.raw.note(f"run {run.run_id} of {request.app_id}")
        await self.before_run(run)
        if not self.runs.is_active(run):
            return  # Escape arrived while before_run was mounting: the run is already stopped
        # Not exclusive: a run stopped before Dify named its task keeps reading until it does.
        run.worker = self.run_worker(
            runner.stream_run(self.ctx.client, request, run.run_id, self.post_message, self.ctx.record),
            group="run",
            exit_on_error=False,
            name=f"run {self.item.id}",
        )

    async def before_run(self, run: ActiveRun) -> None:
        """Hook: mount what the run will fill (user turn, answer view, timeline…)."""

    def _streaming(self, on: bool) -> None:
        """A stream starts: tell the app (its first one freezes what the app built so far:
        :mod:`.gc_policy`). Its end needs nothing."""
        hook = getattr(self.app, "stream_started", None) if on else None
        if hook is not None:
            hook()

    def _send_stop(self, task_id: str) -> None:
        """Ask Dify to stop ``task_id`` in the background (the controller closed its stream)."""
        self.run_worker(
            runner.stop_task(self.ctx.client, self.item.id, task_id, self.post_message),
            name="stop request",
            group="stop",
            exit_on_error=False,
        )

    @on(m.UploadProgress)
    def _upload_progress(self, message: m.UploadProgress) -> None:
        if self.runs.current(message.run_id) is not None:  # not a stopped run's late word
            self.stats.show_upload(message.name, message.sent, message.total)

    @on(m.RunIds)
    def _run_ids(self, message: m.RunIds) -> None:
        # Not in the raw log: the event's own message (its text, node, other…) records it there.
        self.runs.event(message.run_id, message.received_at)
        ids = self.runs.ids(message.run_id, message.task_id, message.conversation_id)
        if ids.stop_sent:
            self.call_later(self.notice, f"Asked Dify to stop task {ids.stop_sent}.", "warning")
        if ids.run is not None and ids.first_conversation:
            self.conversation_seen(ids.run, ids.first_conversation)

    def conversation_seen(self, run: ActiveRun, conversation_id: str) -> None:
        """Hook (chat): the first conversation id of a run."""

    def _record(self, message: m.StreamEvent) -> ActiveRun | None:
        self.raw.record(message.event)
        return self.runs.event(message.run_id, message.received_at)

    @on(m.AnswerDelta)
    async def _answer_delta(self, message: m.AnswerDelta) -> None:
        run = self._record(message)
        if run is not None and run.answer is not None:
            await run.answer.write(message.text)

    @on(m.AnswerReplaced)
    async def _answer_replaced(self, message: m.AnswerReplaced) -> None:
        run = self._record(message)
        if run is not None and run.answer is not None:
            await run.answer.replace(message.text)

    @on(m.RunReconnected)
    async def _run_reconnected(self, message: m.RunReconnected) -> None:
        run = self.runs.current(message.run_id)
        if run is not None:
            run.reconnects = message.count
            await self.notice("The connection dropped; re-attached to the run.", "warning")

    @on(m.AnswerReconciled)
    async def _answer_reconciled(self, message: m.AnswerReconciled) -> None:
        run = self.runs.current(message.run_id)
        if run is not None and run.answer is not None:
            await run.answer.replace(message.text)

    @on(m.NodeEvent)
    async def _node_event(self, message: m.NodeEvent) -> None:
        run = self._record(message)
        if run is not None:
            await self.node_event(run, message.event)

    async def node_event(self, run: ActiveRun, event: dict[str, Any]) -> None:
        """Hook: a graph event (workflow, chatflow)."""

    @on(m.AgentThought)
    async def _agent_thought(self, message: m.AgentThought) -> None:
        run = self._record(message)
        if run is not None:
            await self.agent_thought(run, message.event)

    async def agent_thought(self, run: ActiveRun, event: dict[str, Any]) -> None:
        """Hook: an agent thought (agent chat)."""

    @on(m.OtherEvent)
    def _other_event(self, message: m.OtherEvent) -> None:
        self._record(message)

    @on(m.RunFinished)
    async def _run_finished(self, message: m.RunFinished) -> None:
        run, _stopping = self.runs.end(message.run_id)
        if run is None:
            return
        status = message.status
        if run.answer is not None:
            if status == "succeeded":
                await run.answer.finish("done")
            elif status == "stopped":
                await run.answer.finish("stopped", message.error or "")
            elif status == PARTIAL:  # a success with handled node errors: the CLI exits 0 too
                note = f" — {message.error}" if message.error else ""
                await run.answer.finish("done", f"{PARTIAL_MARK} {status}{note}")
            elif status == "paused":
                await self.paused(run)
            else:
                await run.answer.finish(status, message.error or "")
            self.last_answer = run.answer.text or self.last_answer
            if found := sources(message.metadata):
                await self.log_view.mount(Citations(found), after=run.answer)
        answer = run.answer.text if run.answer is not None else ""
        self.transcript.finished(run.request, status, answer, message.outputs, run.conversation_id)
        await self.run_closed(run, status, message)
        if status == "failed":
            await self.notice(f"The run failed: {message.error or 'no details'}", "error")
        self.stats.show_run(run, status, message.finished_at, message.first_event_at, message.usage)

    async def run_closed(self, run: ActiveRun, status: str, finished: m.RunFinished | None) -> None:
        """Hook: the run is over. ``finished`` is Dify's end of the stream (outputs, usage); None
        when it did not get that far: it failed on our side or was stopped (``status``)."""

    @on(m.RunFailed)
    async def _run_failed(self, message: m.RunFailed) -> None:
        run, stopping = self.runs.end(message.run_id)
        if run is not None:
            await self.fail_run(run, message.message, message.code, message.first_event_at)
        elif stopping:
            await self.notice(f"The stopped request ended before Dify named its task: {message.message}")

    async def fail_run(self, run: ActiveRun, text: str, code: str = "", first: float | None = None) -> None:
        """Show a run that failed on our side (the controller has already ended it)."""
        if run.answer is not None:
            await run.answer.finish("failed")
            self.last_answer = run.answer.text or self.last_answer
        await self.run_closed(run, "failed", None)
        hint = self.retry_hint(run, code)
        await self.notice(f"✗ {text}" + (f"\n  {hint}" if hint else ""), "error")
        self.stats.show_run(run, "failed", self.runs.now(), first)

    def retry_hint(self, run: ActiveRun, code: str) -> str:
        return "Press ctrl+r to retry."

    async def _mark_stopped(self, run: ActiveRun, note: str) -> None:
        if run.answer is not None:
            await run.answer.finish("stopped")
            self.last_answer = run.answer.text or self.last_answer
        await self.run_closed(run, "stopped", None)
        await self.notice(note, "warning")
        self.stats.show_run(run, "stopped", self.runs.now())

    async def stop_for_exit(self) -> None:
        """The console is closing: stop what Escape would stop, and wait for Dify's answers."""
        tasks = self.runs.stop_all()
        await asyncio.gather(*(runner.stop_task(self.ctx.client, self.item.id, t, _ignore) for t in tasks))

    @on(m.StopDone)
    async def _stop_done(self, message: m.StopDone) -> None:
        if message.error:
            await self.notice(f"Could not reach Dify's stop endpoint: {message.error}", "warning")

    @on(Worker.StateChanged)
    async def _worker_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a worker must not take the console down: show it like any other failure.
        if event.state != WorkerState.ERROR:
            return
        event.stop()  # handled here: the app's safety net would say it a second time
        error = event.worker.error
        text, code, _status = runner.describe_error(error) if error else ("unknown error", "", None)
        run = self.runs.worker_failed(event.worker)
        if run is not None:
            await self.fail_run(run, text, code, run.first_event_at)
            return
        await self.notice(f"✗ {text}", "error")


def _ignore(_message: object) -> None:
    """``post`` for stop requests sent while the console closes: nobody is left to tell."""
