"""The apps to import, as a checklist whose marks read without colour."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist


class AppChecklist(SelectionList[str]):
    """The apps to import: "[x]" ticked, "[ ]" not. Textual's ``▐X▌`` told them apart by colour
    alone."""

    TICKED, UNTICKED = "[x] ", "[ ] "

    def _get_left_gutter_width(self) -> int:
        return len(self.TICKED)

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt alone: SelectionList's own adds ▐X▌
        index = self.scroll_offset.y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        style = next(iter(line)).style or self.rich_style
        mark = self.TICKED if selection.value in self._selected else self.UNTICKED
        # meta "option": a click on the mark toggles the row, as on Textual's button.
        return Strip([Segment(mark, style + Style(meta={"option": index})), *line])
