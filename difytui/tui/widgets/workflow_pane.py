"""Workflow interface: form, Run, a live node timeline, then the outputs."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from difytui.tui import messages as m
from difytui.tui.run_controller import ActiveRun
from difytui.tui.safe_text import clean, json_text, one_line
from difytui.tui.widgets.line_piece import MarkdownLines
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.run_pane import RunPane
from difytui.tui.widgets.stats import PARTIAL
from difytui.tui.widgets.timeline import NodeTimeline


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
                yield MarkdownLines(clean(value), classes="output-text")
            else:
                yield Static(json_text(value), classes="output-json", markup=False)


class WorkflowPane(RunPane):
    interface = "workflow"

    async def before_run(self, run: ActiveRun) -> None:
        self.remember_inputs(run.request.inputs)
        run.timeline = NodeTimeline(classes="timeline")
        # text_chunk events stream here; replaced by the outputs when the run succeeds.
        run.answer = AnswerView(label="streamed output", classes="-preview")
        run.answer.show(False)
        await self.log_view.add(self._run_header(run), run.timeline, run.answer)
        self.log_view.anchor()

    async def node_event(self, run: ActiveRun, event: dict[str, Any]) -> None:
        if run.timeline is not None:
            run.timeline.apply(event)

    async def run_closed(self, run: ActiveRun, status: str, finished: m.RunFinished | None) -> None:
        if run.timeline is not None:
            run.timeline.finish(status)
        if finished is None or status not in ("succeeded", PARTIAL) or finished.outputs is None:
            return
        if run.answer is not None and run.answer.text:
            run.answer.show(False)  # the same text is in the outputs
        outputs = finished.outputs
        await self.log_view.add(OutputsView(outputs if isinstance(outputs, dict) else {"output": outputs}))
        self.last_answer = self._answer_text(outputs) or self.last_answer

    @staticmethod
    def _answer_text(outputs: Any) -> str:
        if isinstance(outputs, dict):
            texts = [v for v in outputs.values() if isinstance(v, str)]
            if texts:
                return "\n\n".join(texts)
        import json

        return json.dumps(outputs, indent=2, ensure_ascii=False, default=str)
