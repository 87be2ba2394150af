"""Completion interface (text generator): form, Run, the streamed text."""

from __future__ import annotations

from difytui.tui.run_controller import ActiveRun
from difytui.tui.widgets.response_log import AnswerView
from difytui.tui.widgets.run_pane import RunPane


class CompletionPane(RunPane):
    interface = "completion"

    async def before_run(self, run: ActiveRun) -> None:
        self.remember_inputs(run.request.inputs)
        run.answer = AnswerView()
        await self.log_view.add(self._run_header(run), run.answer)
        self.log_view.anchor()
