"""Leaving the console: quitting, reopening on another workspace, or on one the import just wrote.

Every way out saves the session (session.py) and stops the runs still streaming (stop_runs).
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

    def workspace_names(self) -> list[str]:
        return self._workspaces

    async def stop_runs(self) -> None:
        """Stop every streaming run as Escape would (close the stream, call the stop endpoint):
        leaving the console must not leave Dify generating for nobody."""
        stops = [pane.stop_for_exit() for pane in self.panes.values()]
        # An unreachable Dify must not keep the console open; the streams are closed anyway.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*stops), STOP_TIMEOUT)

    async def leave(self, result: Any = None) -> None:
        self.save_session()  # before the stops: the panes are as the user left them
        await self.stop_runs()
        self.exit(result)

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
