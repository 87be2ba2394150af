"""An app's input form, built from its ``/parameters`` ``user_input_form``.

Each :class:`~difytui.tui.widgets.form_row.FieldRow` checks its own value with ``difytui.forms``'
rules before anything is sent; the messages (naming fields by their labels) show under the fields
they are about and clear as soon as the value is fixed. The form scrolls inside its panel, which
takes what the pane can spare while the log keeps a usable height.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from difytui.form_files import SizeLimits
from difytui.forms import Field, as_text
from difytui.tui.safe_text import one_line
from difytui.tui.widgets.form_row import FieldRow, LimitReached

#: The log keeps at least this many rows (its border included), or this share of the pane.
LOG_MIN_ROWS = 7
LOG_MIN_SHARE = 0.3


class FormView(Vertical):
    """All fields of one app's form."""

    def __init__(
        self, fields: list[Field], values: dict[str, Any], limits: SizeLimits | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fields = fields
        self.values = values
        self.limits = limits  # Dify's upload size limits (system_parameters)

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static(Text("This app has no inputs.", style="italic"), classes="field-hint")
        for index, field in enumerate(self.fields):
            yield FieldRow(field, index, self.values.get(field.variable), self.limits)

    def on_mount(self) -> None:
        for row in self.query(FieldRow):
            row.show_error(None)
        # Re-fit after every layout: the terminal, the prompt or the stats line may have changed.
        self.screen.screen_layout_refresh_signal.subscribe(self, self._layout_refreshed)

    def _layout_refreshed(self, _screen: object) -> None:
        self.fit_panel()

    @property
    def rows(self) -> list[FieldRow]:
        return list(self.query(FieldRow))

    def first_control(self) -> Widget | None:
        for row in self.rows:
            if not row.field.read_only:
                return row.control
        return None

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(typed values, {variable: error}); errors are also shown inline."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for row in self.rows:
            value, error = row.check()
            values.update(value)
            if error:
                errors[row.field.variable] = error
            row.show_error(error)
        return values, errors

    def attention(self, errors: dict[str, str], doing: str) -> str:
        """The summary of a failed check: how many fields, which ones; focus goes to the first."""
        names = [row.name_shown for row in self.rows if row.field.variable in errors]
        first = next(row for row in self.rows if row.field.variable in errors)
        # No centring scroll from the screen: reveal() shows the whole row once its error lines
        # have their height.
        first.control.focus(scroll_visible=False)
        self.call_after_refresh(self.reveal, first)
        count = "1 input needs" if len(names) == 1 else f"{len(names)} inputs need"
        return f"{count} attention before {doing}: {', '.join(names)}"

    def summary(self, values: dict[str, Any]) -> str:
        shown = []
        for field in self.fields:
            if field.variable in values:
                text = one_line(as_text(field, values[field.variable]))
                shown.append(f"{field.variable}={text[:24] + '…' if len(text) > 25 else text}")
        return ", ".join(shown)

    # -- as the user edits ------------------------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed | Select.Changed | Checkbox.Changed) -> None:
        row = self._row_of(event.control)
        if row is not None and row.invalid:
            row.show_error(row.check()[1])  # cleared as soon as the value is fixed

    @on(LimitReached)
    def _limit_reached(self, event: LimitReached) -> None:
        event.stop()
        row = self._row_of(event.widget)
        if row is not None:
            row.limit_reached()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        row = self._row_of(event.widget)
        if row is not None:
            # The screen centres a focused widget it cannot show whole, one refresh later; the
            # row is revealed after that, so the result does not depend on which comes first.
            self.call_after_refresh(self.call_after_refresh, self.reveal, row)

    def _row_of(self, widget: Widget | None) -> FieldRow | None:
        while widget is not None and widget is not self:
            if isinstance(widget, FieldRow):
                return widget
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        return None

    def reveal(self, row: FieldRow) -> None:
        """Scroll the whole row (label, control, hint, error) into view; when it is taller than
        the form's panel, its error line and then its control win."""
        scroller = self.parent
        if not isinstance(scroller, Widget):
            return
        scroller.scroll_to_widget(row, animate=False, immediate=True)
        error = row.query_one(".field-error")
        if error.display:
            scroller.scroll_to_widget(error, animate=False, immediate=True)
        scroller.scroll_to_widget(row.control, animate=False, immediate=True)

    # -- sharing the pane's height with the log ---------------------------------------------------

    def fit_panel(self) -> None:
        """Cap the form's panel (the pane's child that holds the form) at what the pane's other
        fixed-height parts and the log's minimum leave; the form scrolls within it."""
        panel: Widget = self
        for ancestor in self.ancestors:
            if not isinstance(ancestor, Widget):
                return
            if ancestor.has_class("app-pane"):
                break
            panel = ancestor
        else:
            return
        pane = ancestor
        height = pane.content_size.height
        if not height:
            return
        fixed = sum(
            child.outer_size.height + child.styles.margin.top + child.styles.margin.bottom
            for child in pane.children
            if child is not panel and child.display and not _flexible(child)
        )
        log = max(LOG_MIN_ROWS, int(height * LOG_MIN_SHARE))
        room = max(4, height - fixed - log)
        current = panel.styles.max_height
        if current is None or not current.is_cells or current.value != room:
            panel.styles.max_height = room


def _flexible(widget: Widget) -> bool:
    """A part that takes what is left (``1fr``): the log's row."""
    height = widget.styles.height
    return height is not None and height.is_fraction
