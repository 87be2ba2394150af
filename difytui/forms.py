"""An app's input form: ``/parameters`` → :class:`Field` list, Dify's validation, text → typed values.

:func:`validate` follows ``BaseAppGenerator._validate_inputs`` / ``_prepare_user_inputs`` of Dify 1.14
(protocol notes §6) rule by rule and returns Dify's own messages, so an error is caught before a run
starts (a streamed run would otherwise report it in-stream and then hang for minutes).

Values are the client's, not the wire's: a file input may be a ``pathlib.Path`` (uploaded by the
client), an ``http(s)://`` URL string, or a Dify file mapping dict.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlsplit

from .errors import DifyError
from .text import article

__all__ = [
    "CONTROLS",
    "Field",
    "FormError",
    "as_text",
    "coerce",
    "defaults",
    "file_type_of",
    "file_upload_enabled",
    "form_variables",
    "parse_form",
    "restore",
    "unknown_inputs",
    "validate",
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
_TEXT = ("text-input", "paragraph", "select")
_FILES = ("file", "file-list")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class FormError(DifyError):
    """A value that cannot be turned into its field's type (e.g. invalid JSON)."""

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        self.message = message
        super().__init__(message)


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


# --------------------------------------------------------------------------------------------
# Parsing


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
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


def parse_form(parameters: Mapping[str, Any] | list[Any]) -> list[Field]:
    """``/parameters`` (or its ``user_input_form`` list) → fields, in form order.

    Every inner key is optional; items that are not ``{control: {...}}`` with a known control and a
    ``variable`` are skipped (a newer Dify may add controls this version cannot render).
    """
    items = parameters if isinstance(parameters, list) else parameters.get("user_input_form")
    fields: list[Field] = []
    for item in items or ():
        if not isinstance(item, Mapping) or len(item) != 1:
            continue
        control, spec = next(iter(item.items()))
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
    items = parameters if isinstance(parameters, list) else parameters.get("user_input_form")
    names: list[str] = []
    for item in items or ():
        if isinstance(item, Mapping) and len(item) == 1:
            spec = next(iter(item.values()))
            variable = spec.get("variable") if isinstance(spec, Mapping) else None
            if isinstance(variable, str) and variable and variable not in names:
                names.append(variable)
    return names


def unknown_inputs(parameters: Mapping[str, Any] | list[Any], names: Iterable[str]) -> list[str]:
    """The ``names`` that are not inputs of the form (Dify drops them without a word)."""
    known = set(form_variables(parameters))
    return [name for name in names if name not in known]


def file_upload_enabled(parameters: Mapping[str, Any], mode: str) -> bool:
    """Whether the app keeps the run's ``files`` (``/parameters`` ``file_upload``).

    Chat-family and completion apps drop them unless the feature is on: ``{"enabled": true, …}``,
    or ``{"image": {"enabled": true}}`` in the legacy shape; ``{}`` and ``{"enabled": false}`` mean
    off. Workflow apps keep them either way, as ``sys.files``.
    """
    if mode == "workflow":
        return True
    upload = parameters.get("file_upload")
    if not isinstance(upload, Mapping):
        return False
    image = upload.get("image")
    return bool(upload.get("enabled")) or (isinstance(image, Mapping) and bool(image.get("enabled")))


def defaults(fields: Iterable[Field]) -> dict[str, Any]:
    """Initial values: each field's non-empty ``default`` (external data tools are filled by Dify)."""
    return {
        f.variable: f.default for f in fields if not f.read_only and f.default is not None and f.default != ""
    }


# --------------------------------------------------------------------------------------------
# File types

_FILE_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("jpg", "jpeg", "png", "webp", "gif", "svg"),
    "audio": ("mp3", "m4a", "wav", "amr", "mpga"),
    "video": ("mp4", "mov", "mpeg", "webm"),
    "document": (
        "txt", "md", "markdown", "mdx", "pdf", "html", "htm", "xlsx", "xls", "vtt", "properties",
        "doc", "docx", "csv", "eml", "msg", "pptx", "ppt", "xml", "epub",
    ),
}  # fmt: skip
_TYPE_BY_EXTENSION = {ext: kind for kind, exts in _FILE_TYPES.items() for ext in exts}


def _extension(path_or_name: str | os.PathLike[str]) -> str:
    name = os.fspath(path_or_name)
    if is_url(name):
        name = urlsplit(name).path  # not the host: "https://example.com" has no extension
    return PurePath(name).suffix.lower().lstrip(".")


def file_type_of(path_or_name: str | os.PathLike[str]) -> str:
    """Dify's file type for a file name, path or URL: image, audio, video, document or custom."""
    return _TYPE_BY_EXTENSION.get(_extension(path_or_name), "custom")


def is_url(value: Any) -> bool:
    """An http(s) URL (a remote file), as opposed to a local path."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _is_file_value(value: Any) -> bool:
    return isinstance(value, (Mapping, PurePath)) or is_url(value)


def _normalize_ext(ext: str) -> str:
    ext = ext.strip().lower()
    return ext if not ext or ext.startswith(".") else "." + ext


def _check_file(field: Field, value: Any) -> str | None:
    """Dify's ``is_file_valid_with_config`` for a path or URL, with a readable message."""
    if isinstance(value, Mapping):
        return None  # an already-built mapping: Dify checks it
    var = field.variable
    local = isinstance(value, PurePath)
    name = value.name if local else os.fspath(value)
    if local and not Path(value).expanduser().is_file():
        return f"{var}: no such file: {value}"
    kind = file_type_of(value)
    ext = _normalize_ext(_extension(value))
    allowed = field.allowed_file_types
    type_ok = not allowed or kind in allowed
    if not type_ok and "custom" not in allowed:
        return f"{var}: {name} is {article(kind)} file; allowed file types: {', '.join(allowed)}"
    # Files of no listed type fall into the "custom" bucket, where the extension list decides
    # (an empty list allows nothing, as in Dify).
    whitelist = {_normalize_ext(e) for e in field.allowed_file_extensions}
    if (kind == "custom" or not type_ok) and (not ext or ext not in whitelist):
        shown = ", ".join(sorted(whitelist)) or "none"
        types = ", ".join(t for t in allowed if t != "custom")
        also = f"; allowed file types: {types}" if types else ""
        return f"{var}: {name} has an extension that is not allowed (allowed: {shown}){also}"
    method = "local_file" if local else "remote_url"
    methods = field.allowed_file_upload_methods
    # Dify checks image transfer methods against the app's image config, which input variables lack.
    if kind != "image" and methods and method not in methods:
        how = "local files" if local else "URLs"
        return f"{var}: {how} are not accepted (allowed: {', '.join(methods)})"
    return None


# --------------------------------------------------------------------------------------------
# Validation


def _number_error(field: Field, value: Any) -> str | None:
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
    if control in _FILES and not field.required and not value and isinstance(value, (str, list)):
        return None  # Dify treats "" and [] as unset for optional file inputs
    if control in _TEXT and not isinstance(value, str):
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
        if not _is_file_value(value):
            return f"{var} in input form must be a file"
        return _check_file(field, value)
    elif control == "file-list":
        if not isinstance(value, (list, tuple)) or not all(_is_file_value(v) for v in value):
            return f"{var} in input form must be a list of files"
        if field.max_length and len(value) > field.max_length:
            return f"{var} in input form must be less than {field.max_length} files"
        for item in value:
            problem = _check_file(field, item)
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


# --------------------------------------------------------------------------------------------
# Text → values


def _to_file(text: str) -> dict[str, str] | Path:
    """A local path (uploaded by the client) or a URL as Dify's ``remote_url`` file mapping."""
    text = text.strip()
    if is_url(text):
        return {"type": file_type_of(text), "transfer_method": "remote_url", "url": text}
    return Path(text).expanduser()


def _coerce_one(field: Field, text: str) -> Any:
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
        return stripped  # validate() gives Dify's "must be a valid number"
    if control == "checkbox":
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise FormError(field.variable, f"{field.variable} must be true or false (yes/no, on/off, 1/0)")
    if control == "json_object":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormError(
                field.variable, f"{field.variable} is not valid JSON: {exc.msg} (at {exc.pos})"
            ) from None
    if control == "file":
        return _to_file(text)
    if control == "file-list":
        return [_to_file(part) for part in re.split(r"[,\n]", text) if part.strip()] or None
    return text


def coerce(fields: Iterable[Field], raw: Mapping[str, str]) -> dict[str, Any]:
    """Text (``--input key=value``, TUI boxes) → typed values. Blank values of non-text fields are
    left out (so Dify applies the default); variables not in the form pass through as strings."""
    by_name = {f.variable: f for f in fields}
    values: dict[str, Any] = {}
    for name, text in raw.items():
        field = by_name.get(name)
        if field is None:
            values[name] = text
            continue
        value = _coerce_one(field, str(text))
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
        if field.control in _FILES and isinstance(value, str):
            value = _to_file(value)
        elif field.control in _FILES and isinstance(value, list):
            value = [_to_file(v) if isinstance(v, str) else v for v in value]
        values[name] = value
    return values


def as_text(field: Field, value: Any) -> str:
    """The inverse of :func:`coerce` for pre-filling a text box (e.g. from remembered inputs)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) and field.control == "json_object":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return ", ".join(as_text(field, v) for v in value)
    if isinstance(value, dict) and field.control in ("file", "file-list"):
        return str(value.get("url") or value.get("upload_file_id") or "")
    return str(value)
