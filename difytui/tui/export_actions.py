"""Export from the console (issue 11): the chat's conversation, or a recorded run (the Runs view
calls :func:`export_run`), to a Markdown or JSON file at a path the user confirms.

The modal proposes a path in the data dir's ``exports`` folder; the suffix picks the format
(``.json``, else Markdown). The export is built and written in a worker (the conversation's
messages come from Dify through ``AsyncDify``, the file is written off the UI thread), and a
notice says where it went or why it could not. Keys and tokens are masked by
:mod:`difytui.export`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from difytui.tui.safe_text import clean
from difytui.tui.startup import styles_dir

if TYPE_CHECKING:
    from difytui.export import Format
    from difytui.run_records import JSON, RunRecord
    from difytui.tui.widgets.chat_pane import ChatPane


class ExportPath(ModalScreen[Path | None]):
    """Where to save an export: dismissed with the path (Enter), or None (Escape)."""

    CSS_PATH = styles_dir() / "compare.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="export.cancel", tooltip="Export nothing"),
    ]

    def __init__(self, what: str, path: Path) -> None:
        super().__init__(id="export-path")
        self.what = what
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(Text(f"Export {clean(self.what)} to…", style="bold"), markup=False)
            yield Input(str(self.path), id="export-input")
            yield Static(
                Text(
                    "A .json path saves JSON (every event); any other, Markdown. Enter saves · Esc cancels."
                ),
                id="export-hint",
                markup=False,
            )
            yield Static("", id="export-problem", markup=False)

    @on(Input.Submitted, "#export-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            self.query_one("#export-problem", Static).update(Text("Type a file path.", style="red"))
            return
        self.dismiss(Path(typed).expanduser())


def export_dir() -> Path:
    from difytui import paths

    return paths.data_dir() / "exports"


def format_of(path: Path) -> Format:
    return "json" if path.suffix.lower() == ".json" else "md"


def export_run(app: App[Any], record: RunRecord, events: list[JSON]) -> None:
    """Ask where to save ``record`` (with its ``events``), then save it there."""
    from difytui.export import suggested_name

    name = suggested_name("run", str(record.id if record.id is not None else "new"), "md")
    label = f"run #{record.id}" if record.id is not None else "the run"

    async def build(path: Path) -> str:
        from difytui.export import export_run as render

        return await asyncio.to_thread(render, record, events, format_of(path), _secrets(app))

    app.push_screen(ExportPath(label, export_dir() / name), lambda path: _save(app, label, path, build))


def export_conversation(app: App[Any], pane: ChatPane) -> None:
    """Ask where to save the chat's conversation, then fetch its messages and save it there."""
    from difytui.export import suggested_name

    conversation_id = pane.conversation_id
    if not conversation_id:
        app.notify("No conversation yet: send a message first.", severity="warning")
        return
    if not pane.ctx.client.has_history:
        app.notify(
            "Dify's account API has no conversation history to export (a recorded run can be exported).",
            severity="warning",
        )
        return
    name = suggested_name("conversation", conversation_id, "md")
    label = "the conversation"

    async def build(path: Path) -> str:
        from difytui.export import ConversationExport
        from difytui.export import export_conversation as render

        client, app_id = pane.ctx.client, pane.item.id
        messages = [m async for m in client.app.messages.all(app_id, conversation_id)]
        conversation = None
        async for candidate in client.app.conversations.all(app_id):
            if candidate.id == conversation_id:  # Dify has no lookup by id: newest first, so soon
                conversation = candidate
                break
        runs = await asyncio.to_thread(_conversation_runs, pane, conversation_id)
        found = ConversationExport(app_id, conversation_id, messages, conversation, runs)
        return await asyncio.to_thread(render, found, format_of(path), _secrets(app))

    app.push_screen(ExportPath(label, export_dir() / name), lambda path: _save(app, label, path, build))


def _save(app: App[Any], label: str, path: Path | None, build: Callable[[Path], Awaitable[str]]) -> None:
    if path is None:
        return

    async def work() -> None:
        try:
            text = await build(path)
        except Exception as error:  # Dify's answer, a gone conversation, the state database
            app.notify(f"Could not export {label}: {clean(error)}", severity="error", markup=False)
            return
        try:
            await asyncio.to_thread(_write, path, text)
        except OSError as error:
            app.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
            return
        app.notify(f"Exported {label} to {path}", title="Export", markup=False, timeout=8)

    app.run_worker(work(), group="export", exit_on_error=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _conversation_runs(pane: ChatPane, conversation_id: str) -> list[RunRecord]:
    from difytui.run_records import RunRecords

    found = RunRecords(pane.ctx.store).find(pane.ctx.ws_key, pane.item.id, limit=5000)
    return [r for r in found if r.conversation_id == conversation_id]


def _secrets(app: App[Any]) -> list[str]:
    """The keys the console's workspace holds, for the export to mask."""
    workspace = getattr(app, "workspace", None)
    apps = getattr(workspace, "apps", {}) if workspace is not None else {}
    return [entry.api_key.reveal() for entry in apps.values() if getattr(entry, "api_key", None) is not None]
