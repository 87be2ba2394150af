"""F1: every key binding with its id (for ``[keymap]`` in the config), keys and description."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: Keys that are not the console's bindings (Textual's, the widgets'), listed after them.
EXTRA_KEYS = [
    ("", "enter", "Open the highlighted app · send the chat message · ask a focused suggestion"),
    ("", "tab / shift+tab", "Next / previous field"),
    ("", "up / down", "Move in the app list (also from the filter box)"),
    ("", "ctrl+p", "Command palette (switch app or workspace, copy…)"),
]


_KEY_NAMES = {"slash": "/", "question_mark": "?"}


def help_bindings(app_bindings: Iterable[BindingType]) -> list[Binding]:
    """Every binding with an id, once: the app's, the panes' (beside the run keys they share with
    the app list), the prompt's and the form's."""
    from difytui.tui.keys import FORM_BINDINGS, PANE_BINDINGS, PROMPT_BINDINGS, STOP

    ordered = [b for b in app_bindings if isinstance(b, Binding)]
    after_stop = next((i + 1 for i, b in enumerate(ordered) if b.id == STOP.id), len(ordered))
    ordered[after_stop:after_stop] = [*PANE_BINDINGS, *PROMPT_BINDINGS, *FORM_BINDINGS]
    bindings: dict[str, Binding] = {}
    for binding in ordered:
        if isinstance(binding, Binding) and binding.id and binding.id not in bindings:
            bindings[binding.id] = binding
    return list(bindings.values())


def binding_rows(bindings: list[Binding], keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    rows = []
    for binding in bindings:
        if not binding.id:
            continue
        keys = keymap.get(binding.id, binding.key)
        shown = " / ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))
        rows.append((binding.id, shown, binding.tooltip or binding.description))
    return rows


def help_rows(app_bindings: Iterable[BindingType], keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """What F1 lists (and the README's key table, tests/tui/test_help_keys.py)."""
    return [*binding_rows(help_bindings(app_bindings), keymap), *EXTRA_KEYS]


#: A view with keys of its own names itself so (``HELP_TITLE``); F1 there lists its keys first.
ViewKeys = tuple[str, list[tuple[str, str, str]]]


def view_keys(screen: object, keymap: dict[str, str]) -> ViewKeys | None:
    """The title and key rows of ``screen`` (an instance or a class) if it is a view with keys of its
    own (its ``BINDINGS`` with ids, its own class's first), else None."""
    title = getattr(screen, "HELP_TITLE", None)
    if not title:
        return None
    own: dict[str, Binding] = {}
    for cls in (screen if isinstance(screen, type) else type(screen)).__mro__:
        for binding in vars(cls).get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id and binding.id not in own:
                own[binding.id] = binding
    return str(title), binding_rows(list(own.values()), keymap)


def markdown_table(rows: list[tuple[str, str, str]]) -> str:
    """The README's key table for ``rows``."""
    lines = ["| id | keys | action |", "| --- | --- | --- |"]
    for binding_id, keys, description in rows:
        shown_id = f"`{binding_id}`" if binding_id else ""
        lines.append(f"| {shown_id} | `{keys}` | {description} |")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[Any]] = [
        Binding("escape,f1,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]], view: ViewKeys | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows = rows
        self.view = view  # the keys of the view F1 was pressed in, listed first

    def compose(self) -> ComposeResult:
        table = _table(self.rows)
        notes = Text(
            '\nRemap any id in the config file:  [keymap]  app.run = "f5"\n'
            "Escape stops a run; the partial answer stays and your message returns to the prompt.\n"
            "Copying uses OSC 52 (in tmux: set -g set-clipboard on).",
            style="dim",
        )
        self.table = table
        with VerticalScroll(id="help-body"):
            if self.view is not None:
                title, rows = self.view
                yield Static(Text(f"{title} — keys\n", style="bold"), markup=False)
                self.view_table = _table(rows)
                yield Static(self.view_table, markup=False, id="help-view-table")
                yield Static(Text("\neverywhere — keys\n", style="bold"), markup=False)
            else:
                yield Static(Text("difytui — keys\n", style="bold"), markup=False)
            yield Static(table, markup=False, id="help-table")
            yield Static(notes, markup=False)

    def action_dismiss(self, result: Any = None) -> None:  # type: ignore[override]
        self.dismiss(None)


def _table(rows: list[tuple[str, str, str]]) -> Table:
    # A table: in a narrow terminal the actions (and long key lists) wrap inside their columns.
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, header_style="bold underline")
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("keys", style="bold", max_width=18)
    table.add_column("action", ratio=1)
    for binding_id, keys, description in rows:
        table.add_row(Text(binding_id), Text(keys), Text(description))
    return table
