"""What a console import wrote, and the modal that shows it.

:class:`ImportResultScreen` shows an :class:`ImportOutcome`'s lines (skipped apps, where the keys
must be stored) and dismisses with True when the user wants the console reopened on the imported
workspace. Console text is data: it reaches widgets as ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from difytui import config_writer
from difytui.tui.safe_text import one_line

__all__ = ["ImportOutcome", "ImportResultScreen", "config_changes", "config_state"]


def config_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What an import wrote, field names only (never a value: one may be a key).

    ``before``/``after``: ``{"settings": workspace settings, "apps": {id: table}}`` as read from the
    config around the save."""

    def changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        return [key for key, value in new.items() if key not in old or old[key] != value]

    lines = []
    settings = changed(before.get("settings") or {}, after.get("settings") or {})
    if settings:
        lines.append(f"workspace settings written: {', '.join(settings)}")
    old_apps = before.get("apps") or {}
    for app_id, table in (after.get("apps") or {}).items():
        if app_id in old_apps:
            fields = changed(old_apps[app_id], table)
            if fields:
                lines.append(f"{app_id}: recorded {', '.join(fields)}")
    return lines


def config_state(path: Path, workspace: str) -> dict[str, Any]:
    try:
        doc = config_writer.load_document(path)
    except Exception:  # unreadable before the import: everything it wrote is new
        return {}
    return {
        "settings": config_writer.workspace_settings(doc, workspace) or {},
        "apps": config_writer.existing_apps(doc, workspace),
    }


@dataclass
class ImportOutcome:
    """What the import wrote: the config file, the workspace in it, and one line per app."""

    config_path: Path
    workspace: str
    lines: list[str] = field(default_factory=list)


class ImportResultScreen(ModalScreen[bool]):
    """What the import did, line by line; Enter reopens the console on the imported workspace."""

    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "stay", "Stay here", id="import.stay")]

    def __init__(self, outcome: ImportOutcome, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        outcome = self.outcome
        text = Text(f"Imported into workspace {one_line(outcome.workspace)}", style="bold")
        text.append(f"\n{one_line(str(outcome.config_path))}\n\n", style="dim")
        for line in outcome.lines or ["nothing changed"]:
            text.append(f"• {one_line(line)}\n")
        text.rstrip()
        with VerticalScroll(id="import-box"):
            yield Static(text, id="import-result", markup=False)
            with Horizontal(id="import-buttons"):
                yield Button(Text(f"Open {one_line(outcome.workspace)}"), variant="primary", id="import-open")
                yield Button("Stay here", id="import-stay")

    def on_mount(self) -> None:
        self.query_one("#import-open", Button).focus()

    @on(Button.Pressed, "#import-open")
    def _open(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#import-stay")
    def action_stay(self) -> None:
        self.dismiss(False)
