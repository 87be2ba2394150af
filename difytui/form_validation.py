"""Dify's validation of a form's values: :func:`validate` returns one readable message per field.

It follows ``BaseAppGenerator._validate_inputs`` / ``_prepare_user_inputs`` of Dify 1.14 (protocol
notes §6) rule by rule, so an error is caught before a run starts (a streamed run would otherwise
report it in-stream and then hang for minutes). The rules are Dify's; the words are ours: Dify's
"product_name in input form must be less than 40 characters" becomes "Product name must be at
most 40 characters" (Dify rejects only ``len > max_length``, so "at most" is what it means).
Fields are named by ``naming``: their label (the TUI's form) or their variable (the CLI's
``-i KEY=VALUE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .form_fields import FILE_CONTROLS, TEXT_CONTROLS, Field, Naming
from .form_files import check_file, is_file_value

__all__ = ["validate", "validate_one"]


def _is_number(value: object) -> bool:
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str):
        return False  # Dify raises a TypeError here (HTTP 500)
    if not value.strip():
        return True  # Dify turns a blank string into null
    try:
        float(value) if "." in value else int(value)
    except ValueError:
        return False
    return True


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def validate_one(field: Field, value: Any, naming: Naming = "variable") -> str | None:
    """The message for one field's value, or None when Dify would accept it."""
    name = field.called(naming)
    control = field.control
    if value is None:
        if field.required:
            return f"{name} is required"
        value = field.default
        if value is None:
            return None
    if control in FILE_CONTROLS and not field.required and not value and isinstance(value, (str, list)):
        return None  # Dify treats "" and [] as unset for optional file inputs
    if control in TEXT_CONTROLS and not isinstance(value, str):
        return f"{name} must be text"
    if control == "number":
        return None if _is_number(value) else f"{name} must be a number"
    if control == "select":
        if value not in field.options:
            return f"{name} must be one of: {', '.join(field.options)}"
    elif control in ("text-input", "paragraph"):
        if field.max_length and len(value) > field.max_length:
            return f"{name} must be at most {_plural(field.max_length, 'character')}"
    elif control == "file":
        if not is_file_value(value):
            return f"{name} must be a file (a path or an http(s):// URL)"
        return check_file(field, value, naming)
    elif control == "file-list":
        if not isinstance(value, (list, tuple)) or not all(is_file_value(v) for v in value):
            return f"{name} must be a list of files (paths or http(s):// URLs)"
        if field.max_length and len(value) > field.max_length:
            return f"{name} can take at most {_plural(field.max_length, 'file')}"
        for item in value:
            problem = check_file(field, item, naming)
            if problem:
                return problem
        return None
    elif control == "json_object":
        if value and not isinstance(value, Mapping):
            return f'{name} must be a JSON object, e.g. {{"key": "value"}}'
        return None
    # Dify's final sweep: objects left in non-file inputs (e.g. a checkbox given a dict).
    if isinstance(value, Mapping) or (isinstance(value, list) and any(isinstance(v, Mapping) for v in value)):
        return f"{name} cannot be an object"
    return None


def validate(
    fields: Iterable[Field], values: Mapping[str, Any], naming: Naming = "variable"
) -> dict[str, str]:
    """``{variable: message}`` for every invalid value; empty when Dify would accept them.

    Variables not in the form are ignored (Dify drops them). External data tool fields are
    filled in by Dify and not checked.
    """
    errors: dict[str, str] = {}
    for field in fields:
        if field.read_only:
            continue
        message = validate_one(field, values.get(field.variable), naming)
        if message:
            errors[field.variable] = message
    return errors
