"""Dify's request validation: pydantic payload errors (§1.5) and the input-form rules (§6).

Every failure is a ``ValueError`` whose ``str()`` is Dify's exact message; the caller decides how it
surfaces (HTTP 400 ``invalid_param``, or an in-stream ``error`` event on the Celery path).
"""

from __future__ import annotations

import uuid
from typing import Any

from .apps import form_fields

_PYDANTIC_URL = "https://errors.pydantic.dev/2.12/v/"


def _short_repr(value: Any) -> str:
    # pydantic-core truncates long input values to 25 + "..." + 24 characters.
    text = repr(value)
    return text if len(text) <= 50 else text[:25] + "..." + text[-24:]


def _type_name(value: Any) -> str:
    return type(value).__name__


def pydantic_error(model: str, errors: list[tuple[str, str, str, Any]]) -> ValueError:
    """Render ``(loc, message, type, input_value)`` tuples the way pydantic v2.12 does."""
    n = len(errors)
    lines = [f"{n} validation error{'s' if n > 1 else ''} for {model}"]
    for loc, msg, kind, value in errors:
        lines.append(loc)
        lines.append(
            f"  {msg} [type={kind}, input_value={_short_repr(value)}, input_type={_type_name(value)}]"
        )
        lines.append(f"    For further information visit {_PYDANTIC_URL}{kind}")
    return ValueError("\n".join(lines))


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# (field, kind, required); kinds: dict, str, list, mode, conversation_id
_MODELS: dict[str, list[tuple[str, str, bool]]] = {
    "ChatRequestPayload": [
        ("inputs", "dict", True),
        ("query", "str", True),
        ("files", "list", False),
        ("response_mode", "mode", False),
        ("conversation_id", "conversation_id", False),
    ],
    "CompletionRequestPayload": [
        ("inputs", "dict", True),
        ("query", "str", False),
        ("files", "list", False),
        ("response_mode", "mode", False),
    ],
    "WorkflowRunPayload": [
        ("inputs", "dict", True),
        ("files", "list", False),
        ("response_mode", "mode", False),
    ],
}


def parse_payload(model: str, body: dict) -> dict:
    """Validate a generation request body like its pydantic model; returns normalised fields."""
    errors = []
    out: dict[str, Any] = {}
    for name, kind, required in _MODELS[model]:
        if name not in body:
            if required:
                errors.append((name, "Field required", "missing", body))
            out[name] = "" if name == "query" else None
            continue
        value = body[name]
        if kind == "dict" and not isinstance(value, dict):
            errors.append((name, "Input should be a valid dictionary", "dict_type", value))
        elif kind == "str" and not isinstance(value, str):
            errors.append((name, "Input should be a valid string", "string_type", value))
        elif kind == "list" and value is not None and not isinstance(value, list):
            errors.append((name, "Input should be a valid list", "list_type", value))
        elif kind == "mode" and value not in (None, "blocking", "streaming"):
            errors.append((name, "Input should be 'blocking' or 'streaming'", "literal_error", value))
        elif kind == "conversation_id" and value is not None:
            value = value.strip() if isinstance(value, str) else value
            if value == "":
                value = None
            elif not is_uuid(value):
                msg = "Value error, conversation_id must be a valid UUID"
                errors.append((name, msg, "value_error", body[name]))
        if kind == "str" and isinstance(value, str):
            value = value.replace("\x00", "")
        out[name] = value
    if errors:
        raise pydantic_error(model, errors)
    return out


# --- files -------------------------------------------------------------------------------------

_EXT_TYPES = {
    "image": {"jpg", "jpeg", "png", "webp", "gif", "svg"},
    "document": {
        "txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "csv",
        "eml", "msg", "pptx", "ppt", "xml", "epub", "json",
    },
    "audio": {"mp3", "m4a", "wav", "amr", "mpga"},
    "video": {"mp4", "mov", "mpeg", "webm"},
}  # fmt: skip


def file_type_for(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    for kind, exts in _EXT_TYPES.items():
        if ext in exts:
            return kind
    return "custom"


def resolve_file(mapping: Any, uploads: dict, *, strict: bool, allowed: list | None = None) -> dict:
    """Check one file mapping (§3.1.1) and return the file dict Dify echoes in inputs/outputs."""
    if not isinstance(mapping, dict):
        raise ValueError("Invalid file mapping")
    method = mapping.get("transfer_method")
    if not method:
        raise ValueError("transfer_method is required in file mapping")
    upload_id = mapping.get("upload_file_id") or mapping.get("reference") or mapping.get("related_id")
    if method == "local_file":
        if not upload_id:
            raise ValueError("Invalid upload file id")
        if not is_uuid(upload_id):
            raise ValueError("Invalid upload file id format")
        upload = uploads.get(upload_id)
        if upload is None:
            raise ValueError("Invalid upload file id")
        name, size, mime = upload["name"], upload["size"], upload["mime_type"]
        url = None
    elif method == "remote_url":
        url = mapping.get("url") or mapping.get("remote_url")
        if not url:
            raise ValueError("Invalid file url")
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "file"
        size, mime = -1, None
    else:
        raise ValueError(f"Unsupported transfer method: {method}")
    detected = file_type_for(name)
    declared = mapping.get("type")
    if strict and declared and declared not in ("custom", detected):
        raise ValueError("Detected file type does not match the specified type. Please verify the file.")
    kind = declared or detected
    if allowed and kind not in allowed and "custom" not in allowed:
        raise ValueError(f"File validation failed for file: {name}")
    return {
        "dify_model_identity": "__dify__file__",
        "id": None,
        "type": kind,
        "transfer_method": method,
        "remote_url": url,
        "related_id": upload_id if method == "local_file" else None,
        "filename": name,
        "extension": "." + name.rsplit(".", 1)[-1].lower() if "." in name else "",
        "mime_type": mime,
        "size": size,
    }


# --- input form ---------------------------------------------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _validate_one(kind: str, spec: dict, value: Any) -> Any:
    var = spec["variable"]
    if kind in ("file", "file-list") and value == "" and not spec.get("required"):
        value = None
    if value is None:
        if spec.get("required"):
            raise ValueError(f"{var} is required in input form")
        return spec.get("default")
    if kind in ("text-input", "select", "paragraph") and not isinstance(value, str):
        raise ValueError(f"(type '{kind}') {var} in input form must be a string")
    if kind == "number" and isinstance(value, str):
        if not value.strip():
            return None
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            raise ValueError(f"{var} in input form must be a valid number") from None
    if kind == "number" and not isinstance(value, (int, float, dict)):
        raise ValueError(f"{var} in input form must be a valid number")
    if isinstance(value, str):
        value = value.replace("\x00", "")
    if kind == "select" and value not in spec.get("options", []):
        raise ValueError(f"{var} in input form must be one of the following: {spec['options']}")
    if kind in ("text-input", "paragraph"):
        max_length = spec.get("max_length")
        if max_length and len(value) > max_length:
            raise ValueError(f"{var} in input form must be less than {max_length} characters")
    elif kind == "file" and not isinstance(value, dict):
        raise ValueError(f"{var} in input form must be a file")
    elif kind == "file-list":
        if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise ValueError(f"{var} in input form must be a list of files")
        max_length = spec.get("max_length")
        if max_length and len(value) > max_length:
            raise ValueError(f"{var} in input form must be less than {max_length} files")
    elif kind == "checkbox":
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
    elif kind == "json_object" and value and not isinstance(value, dict):
        raise ValueError(f"{var} in input form must be a dict")
    return value


def prepare_inputs(app: dict, inputs: dict, uploads: dict, *, strict: bool) -> dict:
    """``_prepare_user_inputs``: validate in form order, keep declared variables, resolve files."""
    out: dict[str, Any] = {}
    specs = {}
    for kind, spec in form_fields(app):
        if kind == "external_data_tool":
            continue  # filled server-side by the extension, never by the caller
        specs[spec["variable"]] = (kind, spec)
        out[spec["variable"]] = _validate_one(kind, spec, inputs.get(spec["variable"]))
    for var, value in out.items():
        kind, spec = specs[var]
        if isinstance(value, dict) and kind not in ("file", "json_object"):
            raise ValueError(f"Invalid input type for ['{var}']")
        dicts = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        if dicts and kind != "file-list":
            raise ValueError(f"Invalid input type for ['{var}']")
        allowed = spec.get("allowed_file_types")
        if kind == "file" and value is not None:
            out[var] = resolve_file(value, uploads, strict=strict, allowed=allowed)
        elif kind == "file-list" and value is not None:
            out[var] = [resolve_file(v, uploads, strict=strict, allowed=allowed) for v in value]
    return out


def prepare_files(app: dict, files: list | None, uploads: dict, *, strict: bool) -> list[dict]:
    """The ``files`` argument; ignored when the app's file upload feature is off (easy-UI apps)."""
    upload = app["parameters"].get("file_upload") or {}
    enabled = upload.get("enabled") or (upload.get("image") or {}).get("enabled")
    if not files or not (enabled or app["mode"] == "workflow"):
        return []
    return [resolve_file(m, uploads, strict=strict) for m in files if isinstance(m, dict)]
