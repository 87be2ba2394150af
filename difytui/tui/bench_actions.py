"""The console's test-bench keys: the Tests view of the open app, and Save as test case.

Save as test case appends the open pane's conversation (or last run) to ``cases_dir/<app>.toml``
with :func:`difytui.bench.case_writer.append_case`, says where, then offers to open the file in
``$EDITOR`` (the console suspends while it runs; skipped when there is no ``$EDITOR`` or the
terminal cannot suspend).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from difytui.tui.safe_text import clean, one_line
from difytui.tui.startup import styles_dir

if TYPE_CHECKING:
    from difytui.bench.case_writer import SavedCase
    from difytui.bench.catalog import Folders
    from difytui.client import AsyncDify
    from difytui.config import Workspace
    from difytui.store import Store
    from difytui.tui.case_capture import Transcript
    from difytui.tui.models import AppItem
    from difytui.tui.widgets.app_list import AppList
    from difytui.tui.widgets.pane import AppPane

#: The keys, for the app's BINDINGS (F1 and the footer list them).
OPEN_TESTS = Binding(
    "ctrl+g", "open_tests", "Tests", id="tests.open", tooltip="The open app's saved test cases: run, compare"
)
SAVE_CASE = Binding(
    "ctrl+s",
    "save_case",
    "Save case",
    id="case.save",
    show=False,  # on F1 and the palette: the footer has no room left at 80 columns
    tooltip="Save the conversation (or the last run) as a test case in the app's file under cases_dir",
)


class OpenInEditor(ModalScreen[bool]):
    """Offers to open the case file in $EDITOR, after a case was saved."""

    CSS_PATH = styles_dir() / "tests.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "y,enter", "answer(True)", "Open", id="case.edit.yes", tooltip="Open the case file in $EDITOR"
        ),
        Binding("n,escape", "answer(False)", "Not now", id="case.edit.no", tooltip="Keep working here"),
    ]

    def __init__(self, saved: SavedCase, editor: str) -> None:
        super().__init__(id="open-in-editor")
        self.saved = saved
        self.editor = editor

    def compose(self) -> ComposeResult:
        text = Text("Saved ", style="bold")
        text.append(f"{one_line(self.saved.name)!r}", style="bold cyan")
        text.append(f"\nto {clean(str(self.saved.path))}:{self.saved.line}\n\n")
        text.append(f"Open it in {one_line(self.editor)}?  ", style="")
        text.append("y / Enter opens · n / Escape not now", style="dim")
        with Vertical(id="open-in-editor-box"):
            yield Static(text, markup=False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class BenchActions(App[object]):
    """Mixed into the console (DifyConsole)."""

    # Set by DifyConsole / its other parts.
    workspace: Workspace
    config_path: Path | None
    store: Store
    app_list: AppList

    if TYPE_CHECKING:  # DifyConsole's (startup.DeferredStartup, PaneActions)

        @property
        def client(self) -> AsyncDify: ...

        @property
        def current_pane(self) -> AppPane | None: ...

    def case_folders(self) -> Folders:
        from difytui.bench.catalog import folders_for

        return folders_for(self.workspace, self.config_path)

    def action_open_tests(self) -> None:
        from difytui.tui.screens.tests_view import TestsScreen

        if isinstance(self.screen, TestsScreen):
            self.screen.action_back()
            return
        pane = self.current_pane
        if pane is None:
            self.notify("Open an app first: its Tests view lists its saved cases.", severity="warning")
            return
        interfaces: dict[str, str] = {}
        for item in self.app_list.apps.values():
            if item.interface is not None:
                interfaces[item.id] = item.interface
                interfaces.setdefault(item.name, item.interface)
        peers = [
            (item.id, item.name)
            for item in self.app_list.apps.values()
            if item.interface == pane.item.interface and item.id != pane.item.id
        ]
        screen = TestsScreen(
            pane.item, self.case_folders(), interfaces, self.client, self.store, peers, self.workspace.name
        )
        self.push_screen(screen)

    async def action_save_case(self) -> None:
        pane = self.current_pane
        if pane is None:
            self.notify(
                "Open an app and run it first: ctrl+s saves that run as a test case.", severity="warning"
            )
            return
        if self.screen is not self.screen_stack[0]:  # the palette, over the Tests view
            self.notify("Close this view first: ctrl+s saves from an app's pane.", severity="warning")
            return
        transcript = pane.transcript
        if not transcript.status:
            self.notify("Nothing to save yet: run the app first (ctrl+r).", severity="warning")
            return
        await self.save_transcript(pane.item, transcript)

    async def save_transcript(self, item: AppItem, transcript: Transcript) -> None:
        """Append ``transcript`` to ``item``'s case file, say where, offer $EDITOR (also the Runs
        view's Save case)."""
        folders = self.case_folders()
        if folders.save is None:
            self.notify(f"Cannot save a test case: {clean(folders.why)}", severity="error", markup=False)
            return
        try:  # off the UI thread: the case file is parsed and rewritten
            saved = await asyncio.to_thread(_save, folders.save, item, transcript)
        except Exception as error:  # ConfigError (a file that is not TOML, a disk error), or a bug
            self.notify(f"Could not save the test case: {clean(str(error))}", severity="error", markup=False)
            return
        notes = []
        if transcript.partial:
            notes.append("earlier turns of this conversation were before this session: not in the case")
        if transcript.files:
            notes.append("the files sent are not in the case: add them under files")
        extra = f" ({'; '.join(notes)})" if notes else ""
        where = f"{clean(str(saved.path))}:{saved.line}"
        self.notify(f"Saved test case {one_line(saved.name)!r} to {where}{extra}", markup=False, timeout=8)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or ""
        if editor.strip():
            self.push_screen(
                OpenInEditor(saved, editor), lambda answer: self._edit(answer, saved.path, editor)
            )

    def _edit(self, answer: bool | None, path: Path, editor: str) -> None:
        if not answer:
            return
        try:
            with self.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
        except SuspendNotSupported:
            self.notify(
                f"This terminal cannot hand over to {one_line(editor)}: edit {clean(str(path))} yourself.",
                markup=False,
            )
        except (OSError, ValueError) as error:  # no such editor, or a $EDITOR shlex cannot split
            self.notify(
                f"Could not run {one_line(editor)}: {clean(str(error))}", severity="error", markup=False
            )


def _save(folder: Path, item: AppItem, transcript: Transcript) -> SavedCase:
    from difytui.bench.case_writer import append_case, case_file

    queries = transcript.queries if item.interface == "chat" else None
    first = one_line(queries[0])[:48] if queries else ""
    name = f"{first or 'run'} ({time.strftime('%Y-%m-%d %H:%M')})"
    expected = transcript.outputs if transcript.outputs is not None else transcript.answer
    return append_case(
        case_file(folder, item.id),
        app=item.id,
        name=name,
        inputs=transcript.inputs,
        turns=queries,
        answer_or_outputs=expected,
        status=transcript.status,
    )
