"""One field of an app's form: label, control, hint and inline error (:class:`FieldRow`).

A row checks its own value (``difytui.forms`` rules, messages naming the field by its label), so
the form can validate one field as the user edits it. Text limits are enforced as the user types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static, TextArea
from textual.widgets.text_area import EditResult, Location

from difytui.form_files import SizeLimits, check_sizes
from difytui.forms import Field, FormError, as_text, coerce, join_file_list, validate_one
from difytui.tui.keys import PICK_FILE
from difytui.tui.safe_text import clean, one_line

_CONTROL_HINTS = {
    "file": "a file path or an http(s):// URL",
    "file-list": "file paths or URLs, separated by commas",
    "json_object": 'a JSON object, e.g. {"key": "value"}',
}


def field_hint(field: Field, pick_key: str = PICK_FILE.key) -> str:
    """The line under a field's control: its hint, its limits and (file inputs) the picker's key."""
    parts = []
    if field.hint and field.hint != field.placeholder:
        parts.append(one_line(field.hint))
    if field.control in ("text-input", "paragraph") and field.max_length:
        parts.append(f"max {field.max_length} characters")
    if field.control == "file-list" and field.max_length:
        parts.append(f"up to {field.max_length} files")
    if field.control in ("file", "file-list") and field.allowed_file_types:
        parts.append("types: " + ", ".join(field.allowed_file_types))
    if field.control in ("file", "file-list") and not field.read_only:
        what = "files" if field.control == "file-list" else "a file"
        parts.append(f"{pick_key.split(',')[0]} picks {what}")
    return " · ".join(parts)


class LimitReached(Message):
    """A text control refused an edit that would pass its field's ``max_length``.

    Handled by the form, not the row: it then arrives in the order of the control's ``Changed``
    messages (they travel the same path), so a later valid edit always clears it."""

    def __init__(self, control: Widget) -> None:
        super().__init__()
        self.widget = control


class LimitedInput(Input):
    def restricted(self) -> None:
        super().restricted()
        if self.max_length and len(self.value) >= self.max_length:
            self.post_message(LimitReached(self))


class FileInput(LimitedInput):
    """A file or file-list input: a path or URL typed, or files chosen with the picker (ctrl+o)."""

    BINDINGS: ClassVar[list[BindingType]] = [PICK_FILE]

    class PickFiles(Message):
        """ctrl+o: the row opens the picker with its field's constraints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Focus comes back here from the picker: a selected text would be replaced by the next key.
        super().__init__(*args, select_on_focus=False, **kwargs)

    def action_pick_file(self) -> None:
        self.post_message(self.PickFiles())


class LimitedTextArea(TextArea):
    """A TextArea that refuses typed or pasted text past ``max_length`` characters (Dify's limit),
    as Input does with its own ``max_length``; edits made through the API are not limited."""

    def __init__(self, text: str, max_length: int | None, **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.max_length = max_length

    def _replace_via_keyboard(self, insert: str, start: Location, end: Location) -> EditResult | None:
        if self.max_length:
            replaced = len(self.document.get_text_range(start, end))
            if len(self.text) - replaced + len(insert) > self.max_length and insert:
                self.app.bell()
                self.post_message(LimitReached(self))
                return None
        return super()._replace_via_keyboard(insert, start, end)


class FieldRow(Vertical):
    """Label (with a required mark), the control, a hint and an inline error line."""

    def __init__(self, field: Field, index: int, value: Any, limits: SizeLimits | None = None) -> None:
        super().__init__(classes="field-row")
        self.field = field
        self.index = index
        self.value = value
        self.limits = limits  # Dify's upload size limits, checked on local files

    @property
    def name_shown(self) -> str:
        """How messages call this field: its label."""
        return self.field.called("label")

    def compose(self) -> ComposeResult:
        field = self.field
        label = Text(one_line(field.label) or field.variable, style="bold")
        if field.required:
            label.append(" *", style="bold red")
        label.append(f"  {field.control}", style="dim")
        yield Static(label, classes="field-label", markup=False)
        yield self._control()
        keymap: dict[str, str] = getattr(self.app, "user_keymap", {})  # the console's [keymap]
        hint = field_hint(field, keymap.get(PICK_FILE.id, PICK_FILE.key))
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
            limit = field.max_length if field.control == "paragraph" else None
            area = LimitedTextArea(clean(text), limit, id=control_id, soft_wrap=True, classes="field-area")
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
        limit = field.max_length if field.control == "text-input" else None
        input_class = FileInput if field.control in ("file", "file-list") else LimitedInput
        return input_class(
            clean(text),
            placeholder=placeholder,
            id=control_id,
            type=kind,
            valid_empty=True,
            max_length=limit or 0,
        )

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

    def check(self) -> tuple[dict[str, Any], str | None]:
        """({variable: typed value} or {} when left out, the error message or None)."""
        raw = self.raw()
        if raw is None:
            return {}, None
        field = self.field
        try:
            values = coerce([field], {field.variable: raw}, naming="label")
        except FormError as error:
            return {}, error.message
        problem = validate_one(field, values.get(field.variable), naming="label")
        if problem is None and self.limits is not None:
            problem = check_sizes(field, values.get(field.variable), self.limits, naming="label")
        return values, problem

    @property
    def invalid(self) -> bool:
        return self.has_class("-invalid")

    def show_error(self, message: str | None) -> None:
        error = self.query_one(".field-error", Static)
        error.update(Text(f"✗ {one_line(message)}") if message else "")
        error.display = bool(message)
        self.set_class(bool(message), "-invalid")

    def limit_reached(self) -> None:
        self.show_error(f"{self.name_shown} can hold at most {self.field.max_length} characters")

    # -- the file picker --------------------------------------------------------------------------

    @on(FileInput.PickFiles)
    def _pick_files(self, event: FileInput.PickFiles) -> None:
        event.stop()
        from difytui.tui.screens.file_picker import FilePicker, PickRules

        field = self.field
        current = self.check()[0].get(field.variable)
        items = current if isinstance(current, list) else [] if current is None else [current]
        kept = [item for item in items if not isinstance(item, Path)]  # URLs stay as they are
        paths = [item for item in items if isinstance(item, Path)]
        rules = PickRules.of_field(field, taken=len(kept))
        if rules.max_files == 0:
            self.show_error(f"{self.name_shown} already holds {field.max_length} files: remove a URL first")
            return
        self.app.push_screen(FilePicker(rules, chosen=paths), lambda picked: self._picked(picked, kept))

    def _picked(self, picked: list[Path] | None, kept: list[object]) -> None:
        """The picker's answer: the chosen files replace the field's local files (Escape: None)."""
        from difytui.tui.screens.file_picker import shown_path

        control = self.control
        if picked is None or not isinstance(control, Input):
            return
        if self.field.control == "file" and not picked:
            return
        texts = [as_text(self.field, item) for item in kept] + [shown_path(p) for p in picked]
        control.value = join_file_list(texts)
        self.show_error(self.check()[1])  # e.g. a file over Dify's size limit, before any upload
