"""Put values into a loaded form (a conversation opened from the list brings its inputs back)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, Input, Select, TextArea

from difytui.form_fields import FILE_CONTROLS
from difytui.forms import as_text
from difytui.tui.safe_text import clean
from difytui.tui.widgets.form import FormView


def fill_form(form: FormView, values: dict[str, Any]) -> list[str]:
    """Set each field ``values`` names; the variables filled. Files are left alone: Dify's record
    of a sent file is not something to send again."""
    filled = []
    for row in form.rows:
        field = row.field
        if field.variable not in values or field.read_only or field.control in FILE_CONTROLS:
            continue
        value = values[field.variable]
        text = as_text(field, value)
        control = row.control
        if isinstance(control, Input):
            control.value = clean(text)
        elif isinstance(control, TextArea):
            control.text = clean(text)
        elif isinstance(control, Select):
            control.value = text if text in field.options else Select.NULL
        elif isinstance(control, Checkbox):
            control.value = value is True or text.lower() in ("true", "1", "yes", "on")
        else:
            continue
        row.show_error(None)
        filled.append(field.variable)
    return filled
