"""Leaving the console: quitting, reopening on another workspace, or on one the import just wrote.

Every way out saves the session (session.py) and stops the runs still streaming (stop_runs). A run
Dify has not named yet cannot be stopped: the console waits for its name a while (TASK_ID_WAIT,
saying so; a second quit key leaves at once), stops it, then leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.tui.commands import SystemCommands
from difytui.tui.session import SessionMemory

if TYPE_CHECKING:
    from difytui.tui.widgets.pane import AppPane

#: How long leaving the console waits for Dify's answers to its stop requests.
STOP_TIMEOUT = 3.0


class WorkspaceActions(SessionMemory, SystemCommands):
    """Quit, switch workspace and console import: each leaves with a result the CLI acts on."""

    # Set by DifyConsole.__init__.
    panes: dict[str, AppPane]
    config_path: Path | None
    _workspaces: list[str]
    user_keymap: dict[str, str]

    def workspace_names(self) -> list[str]:
        return self._workspaces

    #: a way out waits for runs to be named (a second one leaves at once)
    _leaving = False

    async def stop_runs(self) -> int:
        """Stop every streaming run as Escape would (close the stream, call the stop endpoint):
        leaving the console must not leave Dify generating for nobody. Returns how many runs
        still wait for Dify to name their task (they keep reading, as after Escape)."""
        stops = [pane.stop_for_exit() for pane in self.panes.values()]
        # An unreachable Dify must not keep the console open; the streams are closed anyway.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*stops), STOP_TIMEOUT)
        return sum(len(pane.runs.pending_stops) for pane in self.panes.values())

    async def leave(self, result: Any = None) -> None:
        if self._leaving:  # the user would rather not wait for the stops
            self._abandon_runs()
            self.exit(result)
            return
        self.save_session()  # before the stops: the panes are as the user left them
        unnamed = await self.stop_runs()
        if not unnamed:
            self.exit(result)
            return
        self._leaving = True
        runs = "run" if unnamed == 1 else "runs"
        key = (self.user_keymap.get("quit") or "ctrl+q").split(",")[0].strip()  # as the user bound it
        self.notify(
            f"Stopping {unnamed} {runs} as soon as Dify names them… Press {key} again to leave now.",
            title="Leaving",
            severity="warning",
            markup=False,
        )
        # On a worker: the app's own queue must stay free for the second quit key.
        self.run_worker(self._leave_once_named(result), name="leaving", group="leave", exit_on_error=False)

    async def _leave_once_named(self, result: Any) -> None:
        """Wait (TASK_ID_WAIT at most) until each stopped run is named or over, and its stop
        request answered (STOP_TIMEOUT at most), then leave."""
        from difytui.streams import TASK_ID_WAIT

        named = [pane.runs.named() for pane in self.panes.values()]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*named), TASK_ID_WAIT)
        self._abandon_runs()
        stops = [w.wait() for w in self.workers if w.group == "stop" and not w.is_finished]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*stops, return_exceptions=True), STOP_TIMEOUT)
        self.exit(result)

    def _abandon_runs(self) -> None:
        for pane in self.panes.values():
            pane.runs.abandon()

    async def action_quit(self) -> None:
        await self.leave()

    def switch_workspace(self, name: str) -> None:
        self.call_later(self.leave, ("workspace", name))

    def action_import_console(self) -> None:
        from difytui.tui.screens.import_console import ImportConsoleScreen, ImportOutcome, ImportResultScreen

        def reopen(confirmed: bool | None, outcome: ImportOutcome) -> None:
            if confirmed:
                self.call_later(self.leave, ("workspace", outcome.workspace, outcome.config_path))

        def imported(outcome: ImportOutcome | None) -> None:
            if outcome is None:
                return
            # The lines say what was skipped and where keys must go: the user reads them first.
            self.push_screen(ImportResultScreen(outcome), lambda ok: reopen(ok, outcome))

        name = self.workspace.name if self.workspace.source not in ("demo", "environment") else None
        self.load_late_styles()
        self.push_screen(ImportConsoleScreen(self.config_path, name), imported)
