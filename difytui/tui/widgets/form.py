"""An app's input form, built from its ``/parameters`` ``user_input_form``.

Values are read as text (or bool for checkboxes) and turned into typed values by
``difytui.forms.coerce``; ``difytui.forms.validate`` applies Dify's own rules before anything is
sent, and the messages are shown under the fields they are about.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from difytui.forms import Field, FormError, as_text, coerce, validate
from difytui.tui.safe_text import clean, one_line

_CONTROL_HINTS = {
    "file": "a file path or an http(s):// URL",
    "file-list": "file paths or URLs, separated by commas",
    "json_object": 'a JSON object, e.g. {"key": "value"}',
}


def _field_hint(field: Field) -> str:
    parts = []
    if field.hint and field.hint != field.placeholder:
        parts.append(one_line(field.hint))
    if field.control in ("text-input", "paragraph") and field.max_length:
        parts.append(f"max {field.max_length} characters")
    if field.control == "file-list" and field.max_length:
        parts.append(f"up to {field.max_length} files")
    if field.control in ("file", "file-list") and field.allowed_file_types:
        parts.append("types: " + ", ".join(field.allowed_file_types))
    return " · ".join(parts)


class FieldRow(Vertical):
    """Label (with a required mark), the control, a hint and an inline error line."""

    def __init__(self, field: Field, index: int, value: Any) -> None:
        super().__init__(classes="field-row")
        self.field = field
        self.index = index
        self.value = value

    def compose(self) -> ComposeResult:
        field = self.field
        label = Text(one_line(field.label) or field.variable, style="bold")
        if field.required:
            label.append(" *", style="bold red")
        label.append(f"  {field.control}", style="dim")
        yield Static(label, classes="field-label", markup=False)
        yield self._control()
        hint = _field_hint(field)
        if hint:
            yield Static(Text(hint), classes="field-hint", markup=False)
        yield Static("", classes="field-error", markup=False)

    def _control(self) -> Widget:
        field, value = self.field, self.value
        control_id = f"field-{self.index}"
        placeholder = one_line(field.placeholder) or _CONTROL_HINTS.get(field.control, "")
        text = as_text(field, value) if value is not None else ""
        if field.read_only:
            return Static(
                Text("filled in by Dify (external data tool)", style="italic"),
                id=control_id,
                classes="field-readonly",
            )
        if field.control in ("paragraph", "json_object"):
            area = TextArea(clean(text), id=control_id, soft_wrap=True, classes="field-area")
            area.show_line_numbers = False
            return area
        if field.control == "select":
            # Option prompts are Text: a str would be parsed as markup by Select's OptionList
            # ("[/x]" raises, "[@click=…]" becomes an action); Text also keeps type-to-search.
            options = [(Text(one_line(o) or " "), o) for o in field.options]
            chosen = text if text in field.options else Select.NULL
            return Select(options, value=chosen, id=control_id, prompt="choose…", allow_blank=True)
        if field.control == "checkbox":
            checked = value is True or str(text).lower() in ("true", "1", "yes", "on")
            # Content, not str: a str label is parsed as markup.
            return Checkbox(Content(one_line(field.label) or field.variable), checked, id=control_id)
        kind = "number" if field.control == "number" else "text"
        return Input(clean(text), placeholder=placeholder, id=control_id, type=kind, valid_empty=True)

    @property
    def control(self) -> Widget:
        return self.query_one(f"#field-{self.index}")

    def raw(self) -> str | None:
        """The control's text (None for read-only fields)."""
        widget = self.control
        if isinstance(widget, Input):
            return widget.value
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.is_blank() else str(widget.value)
        if isinstance(widget, Checkbox):
            return "true" if widget.value else "false"
        return None

    def show_error(self, message: str | None) -> None:
        error = self.query_one(".field-error", Static)
        error.update(Text(f"✗ {one_line(message)}") if message else "")
        error.display = bool(message)
        self.set_class(bool(message), "-invalid")


class FormView(Vertical):
    """All fields of one app's form."""

    def __init__(self, fields: list[Field], values: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = fields
        self.values = values

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static(Text("This app has no inputs.", style="italic"), classes="field-hint")
        for index, field in enumerate(self.fields):
            yield FieldRow(field, index, self.values.get(field.variable))

    def on_mount(self) -> None:
        for row in self.query(FieldRow):
            row.show_error(None)

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
            raw = row.raw()
            if raw is None:
                continue
            try:
                values.update(coerce([row.field], {row.field.variable: raw}))
            except FormError as error:
                errors[row.field.variable] = error.message
        for variable, message in validate(self.fields, values).items():
            errors.setdefault(variable, message)
        for row in self.rows:
            row.show_error(errors.get(row.field.variable))
        return values, errors

    def summary(self, values: dict[str, Any]) -> str:
        shown = []
        for field in self.fields:
            if field.variable in values:
                text = one_line(as_text(field, values[field.variable]))
                shown.append(f"{field.variable}={text[:24] + '…' if len(text) > 25 else text}")
        return ", ".join(shown)
