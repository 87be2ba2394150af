"""Dify's validation of a form's values: :func:`validate` returns Dify's own messages.

It follows ``BaseAppGenerator._validate_inputs`` / ``_prepare_user_inputs`` of Dify 1.14 (protocol
notes §6) rule by rule, so an error is caught before a run starts (a streamed run would otherwise
report it in-stream and then hang for minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .form_fields import FILE_CONTROLS, TEXT_CONTROLS, Field
from .form_files import check_file, is_file_value

__all__ = ["validate"]


def _number_error(field: Field, value: object) -> str | None:
    if isinstance(value, (int, float)):
        return None
    message = f"{field.variable} in input form must be a valid number"
    if not isinstance(value, str):
        return message  # Dify raises a TypeError here (HTTP 500); say what it means instead
    if not value.strip():
        return None
    try:
        float(value) if "." in value else int(value)
    except ValueError:
        return message
    return None


def _validate_one(field: Field, value: Any) -> str | None:
    var = field.variable
    control = field.control
    if value is None:
        if field.required:
            return f"{var} is required in input form"
        value = field.default
        if value is None:
            return None
    if control in FILE_CONTROLS and not field.required and not value and isinstance(value, (str, list)):
        return None  # Dify treats "" and [] as unset for optional file inputs
    if control in TEXT_CONTROLS and not isinstance(value, str):
        return f"(type '{control}') {var} in input form must be a string"
    if control == "number":
        return _number_error(field, value)
    if control == "select":
        if value not in field.options:
            return f"{var} in input form must be one of the following: {list(field.options)}"
    elif control in ("text-input", "paragraph"):
        if field.max_length and len(value) > field.max_length:
            return f"{var} in input form must be less than {field.max_length} characters"
    elif control == "file":
        if not is_file_value(value):
            return f"{var} in input form must be a file"
        return check_file(field, value)
    elif control == "file-list":
        if not isinstance(value, (list, tuple)) or not all(is_file_value(v) for v in value):
            return f"{var} in input form must be a list of files"
        if field.max_length and len(value) > field.max_length:
            return f"{var} in input form must be less than {field.max_length} files"
        for item in value:
            problem = check_file(field, item)
            if problem:
                return problem
        return None
    elif control == "json_object":
        if value and not isinstance(value, Mapping):
            return f"{var} in input form must be a dict"
        return None
    # Dify's final sweep: objects left in non-file inputs (e.g. a checkbox given a dict).
    if isinstance(value, Mapping) or (isinstance(value, list) and any(isinstance(v, Mapping) for v in value)):
        return f"Invalid input type for [{var!r}]"
    return None


def validate(fields: Iterable[Field], values: Mapping[str, Any]) -> dict[str, str]:
    """``{variable: Dify's message}`` for every invalid value; empty when Dify would accept them.

    Variables not in the form are ignored (Dify drops them). External data tool fields are
    filled in by Dify and not checked.
    """
    errors: dict[str, str] = {}
    for field in fields:
        if field.read_only:
            continue
        message = _validate_one(field, values.get(field.variable))
        if message:
            errors[field.variable] = message
    return errors
