"""Form values as text and back: ``--input key=value`` and TUI boxes → typed values
(:func:`coerce`), recorded inputs → values to send again (:func:`restore`), a value → its text
(:func:`as_text`)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import DifyError
from .form_fields import FILE_CONTROLS, Field, Naming
from .form_files import to_file

__all__ = ["FormError", "as_text", "coerce", "restore"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class FormError(DifyError):
    """A value that cannot be turned into its field's type (e.g. invalid JSON)."""

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        self.message = message
        super().__init__(message)


def _coerce_one(field: Field, text: str, naming: Naming) -> Any:
    """The typed value for ``text``, or ``None`` to leave the variable out."""
    blank = not text.strip()
    control = field.control
    if control in ("text-input", "paragraph"):
        # Dify itself accepts "" for a required text; its web form does not, and neither do we:
        # a blank required box is left out so validate() reports it as missing.
        return None if blank and field.required else text
    if blank:
        return None
    if control == "select":
        return text
    if control == "number":
        stripped = text.strip()
        for convert in (int, float):
            try:
                return convert(stripped)
            except ValueError:
                pass
        return stripped  # validate() says it "must be a number"
    if control == "checkbox":
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise FormError(field.variable, f"{field.called(naming)} must be true or false (yes/no, on/off, 1/0)")
    if control == "json_object":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormError(
                field.variable, f"{field.called(naming)} is not valid JSON: {exc.msg} (at {exc.pos})"
            ) from None
    if control == "file":
        return to_file(text)
    if control == "file-list":
        return [to_file(part) for part in split_file_list(text)] or None
    return text


def split_file_list(text: str) -> list[str]:
    """A file-list box's text → its items: split at commas and line breaks, except inside double
    quotes (``"report, final.pdf", notes.txt``; a quote inside quotes is doubled)."""
    items: list[str] = []
    for line in text.splitlines():
        items += (part.strip() for part in next(csv.reader([line], skipinitialspace=True), []))
    return [item for item in items if item]


def join_file_list(items: Iterable[str]) -> str:
    """The inverse of :func:`split_file_list`: items with a comma or a quote are quoted."""
    return ", ".join(_quoted(item) if re.search(r'[,"]', item) else item for item in items)


def _quoted(item: str) -> str:
    doubled = item.replace('"', '""')
    return f'"{doubled}"'


def coerce(fields: Iterable[Field], raw: Mapping[str, str], naming: Naming = "variable") -> dict[str, Any]:
    """Text (``--input key=value``, TUI boxes) → typed values. Blank values of non-text fields are
    left out (so Dify applies the default); variables not in the form pass through as strings.
    A :class:`FormError` names the field by ``naming``."""
    by_name = {f.variable: f for f in fields}
    values: dict[str, Any] = {}
    for name, text in raw.items():
        field = by_name.get(name)
        if field is None:
            values[name] = text
            continue
        value = _coerce_one(field, str(text), naming)
        if value is not None:
            values[name] = value
    return values


def restore(fields: Iterable[Field], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """Recorded inputs (as the state store keeps them: JSON) → values to send again.

    Only the form's own inputs come back; a file kept as a path string is a ``Path`` again, so the
    client uploads it anew (Dify's upload ids are not recorded)."""
    values: dict[str, Any] = {}
    for field in fields:  # in form order
        name, value = field.variable, recorded.get(field.variable)
        if field.read_only or value is None:
            continue
        if field.control in FILE_CONTROLS and isinstance(value, str):
            value = to_file(value)
        elif field.control in FILE_CONTROLS and isinstance(value, list):
            value = [to_file(v) if isinstance(v, str) else v for v in value]
        values[name] = value
    return values


def as_text(field: Field, value: object) -> str:
    """The inverse of :func:`coerce` for pre-filling a text box (e.g. from remembered inputs)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) and field.control == "json_object":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return join_file_list(as_text(field, v) for v in value)
    if isinstance(value, dict) and field.control in FILE_CONTROLS:
        return str(value.get("url") or value.get("upload_file_id") or "")
    return str(value)
