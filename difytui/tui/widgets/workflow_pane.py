"""Workflow interface: form, Run, a live node timeline, then the outputs."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Markdown, Static

from difytui.tui import messages as m
from difytui.tui.runner import RunRequest
from difytui.tui.safe_text import clean, json_text, one_line
from difytui.tui.widgets.pane import ActiveRun, AppPane
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.timeline import NodeTimeline


class RunBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Button("Run ▶", id="run", variant="primary", compact=True)
        yield Static(Text("ctrl+r runs · Escape stops", style="dim"), classes="run-hint")


class OutputsView(Vertical):
    """Text outputs as Markdown, everything else as highlighted JSON."""

    def __init__(self, outputs: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(classes="outputs", **kwargs)
        self.outputs = outputs

    def compose(self) -> ComposeResult:
        yield Static(Text("Outputs", style="bold underline"), classes="outputs-title")
        if not self.outputs:
            yield Static(Text("(no outputs)", style="dim italic"))
        for key, value in self.outputs.items():
            yield Static(Text(one_line(key), style="bold cyan"), classes="output-key")
            if isinstance(value, str):
                yield Markdown(clean(value), classes="output-text")
            else:
                yield Static(json_text(value), classes="output-json", markup=False)


class RunPane(AppPane):
    """Shared by workflow and completion: a Run button instead of a prompt."""

    def compose_controls(self) -> ComposeResult:
        yield RunBar(classes="run-bar")

    def main_control(self) -> Widget | None:
        return self.query_one("#run", Button)

    @on(Button.Pressed, "#run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_run()

    def build_request(self) -> RunRequest | None:
        inputs = self.collect_inputs()
        if inputs is None:
            return None
        return RunRequest(self.item.id, self.interface, inputs)

    def _run_header(self, run: ActiveRun) -> Static:
        text = Text(f"Run {run.run_id}", style="bold")
        summary = self.form.summary(run.request.inputs) if self.form else ""
        if summary:
            text.append(f"  {summary}", style="dim")
        return Static(text, classes="run-header", markup=False)


class WorkflowPane(RunPane):
    interface = "workflow"

    async def before_run(self, run: ActiveRun) -> None:
        self.remember_inputs(run.request.inputs)
        timeline = NodeTimeline(classes="timeline")
        run.extra["timeline"] = timeline
        # text_chunk events stream here; replaced by the outputs when the run succeeds.
        run.answer = AnswerView(label="streamed output", classes="-preview")
        run.answer.show(False)
        await self.log_view.add(self._run_header(run), timeline, run.answer)
        self.log_view.anchor()

    async def node_event(self, run: ActiveRun, event: dict[str, Any]) -> None:
        run.extra["timeline"].apply(event)

    async def run_ended(self, run: ActiveRun, message: m.RunFinished) -> None:
        run.extra["timeline"].finish(message.status)
        if message.status == "succeeded" and message.outputs is not None:
            if run.answer is not None and run.answer.text:
                run.answer.show(False)  # the same text is in the outputs
            await self.log_view.add(
                OutputsView(
                    message.outputs if isinstance(message.outputs, dict) else {"output": message.outputs}
                )
            )
            self.last_answer = self._answer_text(message.outputs) or self.last_answer

    @staticmethod
    def _answer_text(outputs: Any) -> str:
        if isinstance(outputs, dict):
            texts = [v for v in outputs.values() if isinstance(v, str)]
            if texts:
                return "\n\n".join(texts)
        import json

        return json.dumps(outputs, indent=2, ensure_ascii=False, default=str)

    async def run_stopped(self, run: ActiveRun) -> None:
        run.extra["timeline"].finish("stopped")

    async def run_aborted(self, run: ActiveRun) -> None:
        run.extra["timeline"].finish("failed")
