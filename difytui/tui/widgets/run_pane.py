"""What workflow and completion panes share: a Run button instead of a prompt, a header per run."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Static

from difytui.tui.keys import RAW
from difytui.tui.models import RunRequest
from difytui.tui.run_controller import ActiveRun
from difytui.tui.widgets.pane import AppPane


class RunBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Button("Run ▶", id="run", variant="primary", compact=True)
        yield Static(Text("ctrl+r runs · Escape stops", style="dim"), classes="run-hint")


class RunPane(AppPane):
    BINDINGS: ClassVar[list[BindingType]] = [RAW]

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
