"""An app's input form: ``/parameters`` → :class:`Field` list, in form order.

Only the shape of the form lives here; Dify's rules for values are :mod:`difytui.form_validation`'s,
text → typed values :mod:`difytui.form_values`'s and file inputs :mod:`difytui.form_files`'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CONTROLS",
    "FILE_CONTROLS",
    "TEXT_CONTROLS",
    "Field",
    "Naming",
    "defaults",
    "form_variables",
    "parse_form",
    "unknown_inputs",
]

#: The control types Dify's start node / easy-UI form can hold (graphon ``VariableEntityType``).
CONTROLS = (
    "text-input",
    "paragraph",
    "select",
    "number",
    "checkbox",
    "file",
    "file-list",
    "json_object",
    "external_data_tool",
)
TEXT_CONTROLS = ("text-input", "paragraph", "select")
FILE_CONTROLS = ("file", "file-list")

#: How messages name a field: by its label (a form the user sees) or by its variable (what the
#: CLI's ``-i KEY=VALUE`` and the API take).
Naming = Literal["label", "variable"]


@dataclass(frozen=True)
class Field:
    variable: str
    label: str
    control: str
    required: bool = False
    default: Any = None
    max_length: int | None = None  # characters for text; number of files for file-list
    options: tuple[str, ...] = ()
    hint: str = ""
    placeholder: str = ""
    hidden: bool = False
    read_only: bool = False
    allowed_file_types: tuple[str, ...] = ()
    allowed_file_extensions: tuple[str, ...] = ()
    allowed_file_upload_methods: tuple[str, ...] = ()
    json_schema: Any = None

    def called(self, naming: Naming) -> str:
        """The field's name in a message: its label (one line) or its variable."""
        if naming == "label":
            return " ".join(self.label.split()) or self.variable
        return self.variable


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(v) for v in value if v is not None)


def _positive_int(value: Any) -> int | None:
    # Dify tests `if var.max_length and ...`, so 0 means "no limit".
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _schema(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _items(parameters: Mapping[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    """``(control, spec)`` of each ``{control: spec}`` item of the form; other items are skipped."""
    items = parameters if isinstance(parameters, list) else parameters.get("user_input_form")
    for item in items or ():
        if isinstance(item, Mapping) and len(item) == 1:
            yield next(iter(item.items()))


def parse_form(parameters: Mapping[str, Any] | list[Any]) -> list[Field]:
    """``/parameters`` (or its ``user_input_form`` list) → fields, in form order.

    Every inner key is optional; items that are not ``{control: {...}}`` with a known control and a
    ``variable`` are skipped (a newer Dify may add controls this version cannot render).
    """
    fields: list[Field] = []
    for control, spec in _items(parameters):
        if control not in CONTROLS or not isinstance(spec, Mapping):
            continue
        variable = spec.get("variable")
        if not isinstance(variable, str) or not variable:
            continue
        placeholder = _text(spec.get("placeholder"))
        fields.append(
            Field(
                variable=variable,
                label=_text(spec.get("label")) or variable,
                control=control,
                required=bool(spec.get("required", False)),
                default=spec.get("default"),
                max_length=_positive_int(spec.get("max_length")),
                options=_strings(spec.get("options")),
                hint=_text(spec.get("hint")) or _text(spec.get("description")) or placeholder,
                placeholder=placeholder,
                hidden=bool(spec.get("hide", False)),
                read_only=control == "external_data_tool",
                allowed_file_types=_strings(spec.get("allowed_file_types")),
                allowed_file_extensions=_strings(spec.get("allowed_file_extensions")),
                allowed_file_upload_methods=_strings(spec.get("allowed_file_upload_methods")),
                json_schema=_schema(spec.get("json_schema")),
            )
        )
    return fields


def form_variables(parameters: Mapping[str, Any] | list[Any]) -> list[str]:
    """Every variable on the form, in order, also those of controls :func:`parse_form` skips (a
    newer Dify's): what Dify accepts as an input name."""
    names: list[str] = []
    for _, spec in _items(parameters):
        variable = spec.get("variable") if isinstance(spec, Mapping) else None
        if isinstance(variable, str) and variable and variable not in names:
            names.append(variable)
    return names


def unknown_inputs(parameters: Mapping[str, Any] | list[Any], names: Iterable[str]) -> list[str]:
    """The ``names`` that are not inputs of the form (Dify drops them without a word)."""
    known = set(form_variables(parameters))
    return [name for name in names if name not in known]


def defaults(fields: Iterable[Field]) -> dict[str, Any]:
    """Initial values: each field's non-empty ``default`` (external data tools are filled by Dify)."""
    return {
        f.variable: f.default for f in fields if not f.read_only and f.default is not None and f.default != ""
    }
