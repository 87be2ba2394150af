"""File inputs of a form: Dify's file type of a name, a field's upload settings, and whether an
app keeps a run's files at all.

A file value is the client's: a ``pathlib.Path`` (uploaded by the client), an ``http(s)://`` URL
string, or a Dify file mapping dict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from .form_fields import Field, Naming
from .text import article

__all__ = ["check_file", "file_type_of", "file_upload_enabled", "is_file_value", "is_url", "to_file"]

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


def is_url(value: object) -> TypeGuard[str]:
    """An http(s) URL (a remote file), as opposed to a local path."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def is_file_value(value: object) -> bool:
    return isinstance(value, (Mapping, PurePath)) or is_url(value)


def _normalize_ext(ext: str) -> str:
    ext = ext.strip().lower()
    return ext if not ext or ext.startswith(".") else "." + ext


def check_file(field: Field, value: Any, naming: Naming = "variable") -> str | None:
    """Dify's ``is_file_valid_with_config`` for a path or URL, with a readable message."""
    if isinstance(value, Mapping):
        return None  # an already-built mapping: Dify checks it
    var = field.called(naming)
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


def to_file(text: str) -> dict[str, str] | Path:
    """A local path (uploaded by the client) or a URL as Dify's ``remote_url`` file mapping."""
    text = text.strip()
    if is_url(text):
        return {"type": file_type_of(text), "transfer_method": "remote_url", "url": text}
    return Path(text).expanduser()


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
