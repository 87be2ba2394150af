"""Pick the app to compare the open one with (the Tests view's ``c``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from difytui.tui.safe_text import one_line
from difytui.tui.startup import styles_dir


class ComparePicker(ModalScreen[str | None]):
    """Dismissed with the chosen app's id, or None."""

    CSS_PATH = styles_dir() / "tests.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "dismiss(None)", "Cancel", id="tests.compare.cancel", tooltip="Compare with nothing"
        ),
    ]

    def __init__(self, app_name: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(id="compare-picker")
        self.app_name = app_name
        self.choices = list(choices)  # (app id, its name)

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-box"):
            title = Text(f"Run every case on {one_line(self.app_name)} and on…", style="bold")
            yield Static(title, markup=False)
            options = [
                Option(Text(f"{one_line(name)}  ({one_line(app_id)})"), id=app_id)
                for app_id, name in self.choices
            ]
            yield OptionList(*options, id="compare-apps")

    @on(OptionList.OptionSelected, "#compare-apps")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
