"""What every app pane shares: header, form, log pane, stats, raw events, the run lifecycle.

The pane starts workers (from :mod:`difytui.tui.runner`) and reacts to the messages they post;
it never calls the client itself. Subclasses add the interface-specific parts.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Static
from textual.worker import Worker, WorkerState

from difytui.forms import Field, defaults, parse_form
from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.runner import RunRequest
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.app_list import AppItem, badge_text
from difytui.tui.widgets.form import FormView
from difytui.tui.widgets.raw_events import RawEvents
from difytui.tui.widgets.response_log import AnswerView, Notice, ResponseLog
from difytui.tui.widgets.stats import StatsLine


@dataclass
class PaneContext:
    """What a pane needs from the app: the client (handed to workers), state store and its key.

    ``writer`` takes the store's writes off the UI thread (:class:`StoreWriter`); it has the
    store's set_* methods, so the store itself stands in when none is given.
    """

    client: Any
    store: Any
    ws_key: str
    writer: Any = None

    def __post_init__(self) -> None:
        if self.writer is None:
            self.writer = self.store


#: Escape before Dify's first event: without a task id the stop endpoint cannot be called.
ABANDONED = (
    "Stopped. The request was abandoned before Dify named its task; Dify may still finish it. "
    "Press ctrl+r to run again."
)


@dataclass
class ActiveRun:
    run_id: int
    request: RunRequest
    worker: Worker | None = None
    answer: AnswerView | None = None
    started_at: float = field(default_factory=lambda: time.monotonic())
    first_event_at: float | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    ids_seen: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class AppPane(Vertical):
    """Base class of the chat, workflow and completion panes."""

    interface: ClassVar[str] = ""

    def __init__(self, item: AppItem, ctx: PaneContext, **kwargs: Any) -> None:
        super().__init__(classes=f"app-pane -{self.interface}", **kwargs)
        self.item = item
        self.ctx = ctx
        self.parameters: dict[str, Any] = {}
        self.fields: list[Field] | None = None
        self.form: FormView | None = None
        self.active: ActiveRun | None = None
        self.last_request: RunRequest | None = None
        self.last_answer: str = ""
        self.want_focus = False
        self._run_seq = 0
        self._params_error: str | None = None
        #: runs stopped before their task id arrived: stopped as soon as it does (run_id → run)
        self._pending_stops: dict[int, ActiveRun] = {}

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title = Text(one_line(self.item.name) or self.item.id, style="bold")
        title.append("  ")
        title.append_text(badge_text(self.item.mode))
        title.append(f"  {one_line(self.item.id)}", style="dim")
        yield Static(title, classes="pane-title", markup=False)
        if self.item.description:
            yield Static(Text(one_line(self.item.description)), classes="pane-desc", markup=False)
        with Collapsible(title=Content("Inputs"), collapsed=False, id="inputs"):
            yield Static(Text("loading the form…", style="italic"), id="form-status", markup=False)
        yield from self.compose_controls()
        with Horizontal(classes="pane-body"):
            yield ResponseLog(id="log")
            yield RawEvents(id="raw")
        yield StatsLine(id="stats")
        yield from self.compose_bottom()

    def compose_controls(self) -> ComposeResult:
        yield from ()

    def compose_bottom(self) -> ComposeResult:
        yield from ()

    @property
    def log_view(self) -> ResponseLog:
        return self.query_one("#log", ResponseLog)

    @property
    def raw(self) -> RawEvents:
        return self.query_one("#raw", RawEvents)

    @property
    def stats(self) -> StatsLine:
        return self.query_one("#stats", StatsLine)

    @property
    def running(self) -> bool:
        return self.active is not None

    def on_mount(self) -> None:
        self.stats.display = False
        self.raw.display = False
        self.load_parameters()

    # -- the form -------------------------------------------------------------------------------

    def load_parameters(self) -> None:
        self._params_error = None
        self.query_one("#form-status", Static).update(Text("loading the form…", style="italic"))
        self.run_worker(
            runner.load_parameters(self.ctx.client, self.item.id, self.post_message),
            name="loading the form",
            group="params",
            exclusive=True,
            exit_on_error=False,
        )

    @on(m.ParametersLoaded)
    async def _parameters_loaded(self, message: m.ParametersLoaded) -> None:
        self.parameters = message.parameters
        self.fields = parse_form(message.parameters)
        remembered = self.ctx.store.inputs(self.ctx.ws_key, self.item.id)
        known = {f.variable for f in self.fields}
        values = {**defaults(self.fields), **{k: v for k, v in remembered.items() if k in known}}
        self.form = FormView(self.fields, values, id="form")
        contents = self.query_one("#inputs", Collapsible).query_one(Collapsible.Contents)
        await self.query_one("#form-status").remove()
        await contents.mount(self.form)
        await self.after_form_loaded()
        if self.want_focus:
            self.focus_first()

    @on(m.ParametersFailed)
    def _parameters_failed(self, message: m.ParametersFailed) -> None:
        self._params_error = message.message
        text = Text("✗ could not load the app's form: ", style="bold red")
        text.append(clean(message.message))
        text.append("  (ctrl+r to retry)", style="dim")
        self.query_one("#form-status", Static).update(text)

    async def after_form_loaded(self) -> None:
        """Hook: the form is there (chat shows the opening statement)."""

    def focus_target(self) -> Widget | None:
        """Where focus lands when the app is opened: its first form field, else the main control."""
        if self.form is not None:
            control = self.form.first_control()
            if control is not None:
                return control
        return self.main_control()

    def main_control(self) -> Widget | None:
        return None

    def focus_first(self) -> None:
        self.want_focus = False
        target = self.focus_target()
        if target is not None:
            target.focus()

    def collect_inputs(self) -> dict[str, Any] | None:
        """Validated, typed inputs; None (with errors shown inline) when they are not valid."""
        if self.form is None:
            if self._params_error:
                self.load_parameters()
                self.notify("Loading the app's form again…")
            else:
                self.notify("The form is still loading.", severity="warning")
            return None
        values, errors = self.form.collect()
        if errors:
            self.query_one("#inputs", Collapsible).collapsed = False
            first = next(r for r in self.form.rows if r.field.variable in errors)
            first.control.focus()
            self.notify(f"{len(errors)} input(s) need attention before sending.", severity="error")
            return None
        return values

    def remember_inputs(self, values: dict[str, Any]) -> None:
        """Store the inputs for next time and fold the form away (its title keeps a summary)."""
        self.ctx.writer.set_inputs(self.ctx.ws_key, self.item.id, values)
        self.query_one("#inputs", Collapsible).collapsed = True
        if self.form is not None:
            summary = self.form.summary(values)
            title = "Inputs" + (f": {summary}" if summary else "")
            self.query_one("#inputs", Collapsible).title = Content(title)

    # -- runs -------------------------------------------------------------------------------------

    def action_run(self) -> None:
        """ctrl+r: validate and send (subclasses build the request)."""
        if self.active is not None:
            self.notify("A run is in progress: Escape stops it.", severity="warning")
            return
        request = self.build_request()
        if request is not None:
            self.call_later(self.start_run, request)

    def build_request(self) -> RunRequest | None:
        raise NotImplementedError

    async def start_run(self, request: RunRequest) -> None:
        if self.active is not None:
            return
        self._run_seq += 1
        run = ActiveRun(self._run_seq, request)
        self.active = run
        self.last_request = request
        self._streaming(True)
        self.raw.note(f"run {run.run_id} of {request.app_id}")
        await self.before_run(run)
        if self.active is not run:
            return  # Escape arrived while before_run was mounting: the run is already stopped
        # Not exclusive: a run stopped before Dify named its task keeps reading until it does.
        run.worker = self.run_worker(
            runner.stream_run(self.ctx.client, request, run.run_id, self.post_message),
            group="run",
            exit_on_error=False,
            name=f"run {self.item.id}",
        )

    async def before_run(self, run: ActiveRun) -> None:
        """Hook: mount what the run will fill (user turn, answer view, timeline…)."""

    def _streaming(self, on: bool) -> None:
        """Tell the app (it postpones full garbage collections while anything streams)."""
        hook = getattr(self.app, "stream_started" if on else "stream_ended", None)
        if hook is not None:
            hook()

    def _current(self, message: m.RunMessage) -> ActiveRun | None:
        run = self.active
        return run if run is not None and run.run_id == message.run_id else None

    def _record(self, message: m.StreamEvent) -> ActiveRun | None:
        self.raw.record(message.event)
        run = self._current(message)
        if run is not None and run.first_event_at is None:
            run.first_event_at = message.received_at
        return run

    @on(m.RunIds)
    def _run_ids(self, message: m.RunIds) -> None:
        run = self._record(message)
        if run is None:
            pending = self._pending_stops.get(message.run_id)
            if pending is not None and message.task_id:
                del self._pending_stops[message.run_id]
                pending.task_id = message.task_id
                self._send_stop(pending)
                self.call_later(self.notice, f"Asked Dify to stop task {message.task_id}.", "warning")
            return
        run.task_id = message.task_id or run.task_id
        if message.conversation_id and message.conversation_id != run.conversation_id:
            first = not run.ids_seen or run.conversation_id is None
            run.conversation_id = message.conversation_id
            if first:
                self.conversation_seen(run, message.conversation_id)
        run.ids_seen = True

    def conversation_seen(self, run: ActiveRun, conversation_id: str) -> None:
        """Hook (chat): the first conversation id of a run."""

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
        run = self._current(message)
        if run is None:
            self._pending_stops.pop(message.run_id, None)  # it ended by itself: nothing to stop
            return
        self.active = None
        self._streaming(False)
        status = message.status
        if run.answer is not None:
            if status == "succeeded":
                await run.answer.finish("done")
            elif status == "stopped":
                await run.answer.finish("stopped", message.error or "")
            elif status == "paused":
                await run.answer.finish("paused", "waiting for human input, which difytui cannot answer")
            else:
                await run.answer.finish(status, message.error or "")
            self.last_answer = run.answer.text or self.last_answer
        await self.run_ended(run, message)
        if status == "failed":
            await self.notice(f"The run failed: {message.error or 'no details'}", "error")
        elif status == "paused":
            await self.notice("The run paused for human input; answer it in Dify's web app.", "warning")
        self._show_stats(run, message.finished_at, message.first_event_at, message.usage, status)

    async def run_ended(self, run: ActiveRun, message: m.RunFinished) -> None:
        """Hook: outputs, timeline completion…"""

    @on(m.RunFailed)
    async def _run_failed(self, message: m.RunFailed) -> None:
        run = self._current(message)
        if run is None:
            if self._pending_stops.pop(message.run_id, None) is not None:
                await self.notice(f"The stopped request ended before Dify named its task: {message.message}")
            return
        await self.fail_run(run, message.message, message.code, message.first_event_at)

    async def fail_run(self, run: ActiveRun, text: str, code: str = "", first: float | None = None) -> None:
        self.active = None
        self._streaming(False)
        if run.answer is not None:
            await run.answer.finish("failed")
            self.last_answer = run.answer.text or self.last_answer
        await self.run_aborted(run)
        hint = self.retry_hint(run, code)
        await self.notice(f"✗ {text}" + (f"\n  {hint}" if hint else ""), "error")
        self._show_stats(run, time.monotonic(), first, {}, "failed")

    def retry_hint(self, run: ActiveRun, code: str) -> str:
        return "Press ctrl+r to retry."

    async def run_aborted(self, run: ActiveRun) -> None:
        """Hook: the run failed or was stopped (chat puts the message back into the prompt)."""

    def action_stop(self) -> bool:
        """Escape: close the stream, ask Dify to stop the task, keep what arrived. False if idle."""
        run = self.active
        if run is None:
            return False
        self.active = None
        self._streaming(False)
        if run.worker is None:  # Escape while before_run mounted: start_run will not send it
            note = "Stopped before the request was sent. Press ctrl+r to run again."
        elif run.task_id:
            self._send_stop(run)
            note = f"Stopped. Asked Dify to stop task {run.task_id}. Press ctrl+r to run again."
        elif not run.worker.is_finished:
            # Dify names the task in its first event. Keep the stream open (its text is no longer
            # shown) and call the stop endpoint as soon as the id arrives (_run_ids).
            self._pending_stops[run.run_id] = run
            note = "Stopping as soon as Dify names the task… Press ctrl+r to run again."
        else:
            note = ABANDONED
        self.call_later(self._mark_stopped, run, note)
        return True

    def _send_stop(self, run: ActiveRun) -> None:
        """Close the run's stream and ask Dify to stop its task (in the background)."""
        if run.worker is not None:
            run.worker.cancel()
        if run.task_id:
            self.run_worker(
                runner.stop_task(self.ctx.client, self.item.id, run.task_id, self.post_message),
                name="stop request",
                group="stop",
                exit_on_error=False,
            )

    async def stop_for_exit(self) -> None:
        """The console is closing: stop what Escape would stop, and wait for Dify's answers.

        Runs still waiting for a task id are abandoned (the console cannot wait for them)."""
        runs = list(self._pending_stops.values())
        self._pending_stops.clear()
        if self.active is not None:
            runs.append(self.active)
            self.active = None
            self._streaming(False)
        requests = []
        for run in runs:
            if run.worker is not None:
                run.worker.cancel()
            if run.task_id:
                requests.append(runner.stop_task(self.ctx.client, self.item.id, run.task_id, _ignore))
        await asyncio.gather(*requests)

    async def _mark_stopped(self, run: ActiveRun, note: str) -> None:
        if run.answer is not None:
            await run.answer.finish("stopped")
            self.last_answer = run.answer.text or self.last_answer
        await self.run_stopped(run)
        await self.run_aborted(run)
        await self.notice(note, "warning")
        self._show_stats(run, time.monotonic(), run.first_event_at, {}, "stopped")

    async def run_stopped(self, run: ActiveRun) -> None:
        """Hook: e.g. the timeline marks running nodes as stopped."""

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
        run = self.active
        if event.worker.group == "run" and run is not None and run.worker is event.worker:
            await self.fail_run(run, text, code, run.first_event_at)
            return
        for run_id, pending in list(self._pending_stops.items()):
            if pending.worker is event.worker:
                del self._pending_stops[run_id]
        await self.notice(f"✗ {text}", "error")

    # -- shared bits ----------------------------------------------------------------------------

    async def notice(self, text: str, variant: str = "info") -> Notice:
        widget = Notice(text, variant)
        await self.log_view.add(widget)
        return widget

    def conversation_id_for_stats(self, run: ActiveRun) -> str | None:
        return run.conversation_id

    def _show_stats(
        self,
        run: ActiveRun,
        finished_at: float,
        first: float | None,
        usage: dict[str, Any],
        status: str,
    ) -> None:
        first = first if first is not None else run.first_event_at
        self.stats.show_stats(
            status=status,
            first_event=(first - run.started_at) if first is not None else None,
            total=finished_at - run.started_at,
            usage=usage,
            conversation_id=self.conversation_id_for_stats(run),
            task_id=run.task_id,
        )

    def toggle_raw(self) -> bool:
        self.raw.display = not self.raw.display
        return bool(self.raw.display)

    def new_conversation(self) -> bool:
        """Only chat panes have conversations."""
        return False


def _ignore(_message: Any) -> None:
    """``post`` for stop requests sent while the console closes: nobody is left to tell."""
