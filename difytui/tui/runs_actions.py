"""The console's run-record keys: the Runs view of the open app (F3, the palette), and what a run
offers from there: re-run with the same inputs (in the app's pane) and save as a test case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App

from difytui.tui.safe_text import one_line

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.run_records import RunRecord
    from difytui.tui.case_capture import Transcript
    from difytui.tui.models import AppItem
    from difytui.tui.run_recording import RunRecorder
    from difytui.tui.widgets.app_list import AppList
    from difytui.tui.widgets.pane import AppPane


class RunsActions(App[object]):
    """Mixed into the console (DifyConsole)."""

    run_recorder: RunRecorder
    #: the runs marked for comparison, across every app's Runs view (see RunsScreen.marked)
    run_marks: list[str]
    ws_key: str
    panes: dict[str, AppPane]
    app_list: AppList

    if TYPE_CHECKING:  # DifyConsole's (startup, PaneActions, BenchActions)

        @property
        def client(self) -> AsyncDify: ...

        @property
        def current_pane(self) -> AppPane | None: ...

        def open_app(self, app_id: str) -> None: ...

        async def save_transcript(self, item: AppItem, transcript: Transcript) -> None: ...

    def action_open_runs(self) -> None:
        from difytui.tui.screens.runs_view import RunsScreen

        if isinstance(self.screen, RunsScreen):
            self.screen.dismiss()
            return
        pane = self.current_pane
        if pane is None:
            self.notify("Open an app first: its Runs view lists its recorded runs.", severity="warning")
            return
        item = pane.item
        server = item.interface == "workflow" and self.client.has_history
        records = self.run_recorder.records()
        marks = self.run_marks
        self.push_screen(RunsScreen(item, records, self.ws_key, self.client, server=server, marks=marks))

    def rerun_record(self, record: RunRecord) -> None:
        """Run ``record``'s app again with its inputs (and query), in its pane, opened if need be."""
        from difytui.tui.models import RunRequest

        item = self.app_list.apps.get(record.app_id)
        if item is None or item.interface is None:
            self.notify(f"Cannot re-run: {_not_here(record)}", severity="error", markup=False)
            return
        while len(self.screen_stack) > 1:  # back to the panes (the Runs view, the detail)
            self.pop_screen()
        self.open_app(record.app_id)
        pane = self.panes.get(record.app_id)
        if pane is None:
            return
        if pane.runs.running:
            self.notify("A run is in progress: Escape stops it.", severity="warning")
            return
        request = RunRequest(item.id, item.interface, dict(record.inputs), query=record.query or "")
        pane.call_later(pane.start_run, request)  # queued until the pane is mounted, if it is new
        self.notify("Re-running with the recorded inputs.", timeout=3)

    async def save_record_case(self, record: RunRecord) -> None:
        """The bench's Save as test case, for a recorded run."""
        from difytui.tui.case_capture import Transcript

        item = self.app_list.apps.get(record.app_id)
        if item is None:
            self.notify(f"Cannot save: {_not_here(record)}", severity="error", markup=False)
            return
        transcript = Transcript(
            inputs=dict(record.inputs),
            queries=[record.query] if record.query else [],
            answer=record.answer or "",
            outputs=record.outputs,
            status=record.status,
            conversation_id=record.conversation_id,
        )
        await self.save_transcript(item, transcript)


def _not_here(record: RunRecord) -> str:
    return f"{one_line(record.app_id)} is not an app of this workspace."
