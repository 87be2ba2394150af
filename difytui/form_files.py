"""File inputs of a form: Dify's file type of a name, a field's upload settings, and whether an
app keeps a run's files at all.

A file value is the client's: a ``pathlib.Path`` (uploaded by the client), an ``http(s)://`` URL
string, or a Dify file mapping dict.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from .form_fields import Field, Naming
from .text import article

__all__ = [
    "SizeLimits",
    "accepts_name",
    "check_file",
    "check_sizes",
    "file_type_of",
    "file_upload_enabled",
    "is_file_value",
    "is_url",
    "local_paths",
    "size_problem",
    "to_file",
    "type_extensions",
]

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


def type_extensions(kind: str) -> tuple[str, ...]:
    """The extensions of one of Dify's file types (none for custom)."""
    return _FILE_TYPES.get(kind, ())


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


def _type_problem(
    name: str, value: str | os.PathLike[str], types: tuple[str, ...], extensions: tuple[str, ...]
) -> str | None:
    """Why ``value`` (shown as ``name``) is not of an allowed type or extension, if it is not."""
    kind = file_type_of(value)
    ext = _normalize_ext(_extension(value))
    type_ok = not types or kind in types
    if not type_ok and "custom" not in types:
        return f"{name} is {article(kind)} file; allowed file types: {', '.join(types)}"
    # Files of no listed type fall into the "custom" bucket, where the extension list decides
    # (an empty list allows nothing, as in Dify).
    whitelist = {_normalize_ext(e) for e in extensions}
    if (kind == "custom" or not type_ok) and (not ext or ext not in whitelist):
        shown = ", ".join(sorted(whitelist)) or "none"
        listed = ", ".join(t for t in types if t != "custom")
        also = f"; allowed file types: {listed}" if listed else ""
        return f"{name} has an extension that is not allowed (allowed: {shown}){also}"
    return None


def accepts_name(name: str, types: tuple[str, ...], extensions: tuple[str, ...]) -> bool:
    """Whether a file called ``name`` passes a file input's allowed types and extensions (a file
    picker shows only these)."""
    return _type_problem(name, name, types, extensions) is None


def check_file(field: Field, value: Any, naming: Naming = "variable") -> str | None:
    """Dify's ``is_file_valid_with_config`` for a path or URL, with a readable message."""
    if isinstance(value, Mapping):
        return None  # an already-built mapping: Dify checks it
    var = field.called(naming)
    local = isinstance(value, PurePath)
    name = value.name if local else os.fspath(value)
    if local and not Path(value).expanduser().is_file():
        return f"{var}: no such file: {value}"
    problem = _type_problem(name, value, field.allowed_file_types, field.allowed_file_extensions)
    if problem:
        return f"{var}: {problem}"
    method = "local_file" if local else "remote_url"
    methods = field.allowed_file_upload_methods
    # Dify checks image transfer methods against the app's image config, which input variables lack.
    if file_type_of(value) != "image" and methods and method not in methods:
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


# -- size limits (/parameters system_parameters) -------------------------------------------------

MB = 1024 * 1024
#: Dify picks a file's limit by its type (extension); everything else has ``file_size_limit``.
_LIMIT_KEYS = {
    "image": "image_file_size_limit",
    "audio": "audio_file_size_limit",
    "video": "video_file_size_limit",
}
_KINDS_SHOWN = {"image": "images", "audio": "audio files", "video": "videos", "document": "documents"}


@dataclass(frozen=True)
class SizeLimits:
    """The upload limits in MB, by Dify file type (``other`` for documents and custom files);
    a limit the server did not state is not checked (Dify still refuses with a 413)."""

    image: float | None = None
    audio: float | None = None
    video: float | None = None
    other: float | None = None

    @classmethod
    def of(cls, parameters: Mapping[str, Any]) -> SizeLimits:
        """From ``/parameters`` ``system_parameters``."""
        system = parameters.get("system_parameters")
        given = system if isinstance(system, Mapping) else {}

        def mb(key: str) -> float | None:
            value = given.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                return None
            return float(value)

        return cls(
            image=mb(_LIMIT_KEYS["image"]),
            audio=mb(_LIMIT_KEYS["audio"]),
            video=mb(_LIMIT_KEYS["video"]),
            other=mb("file_size_limit"),
        )

    def limit_for(self, name: str | os.PathLike[str]) -> float | None:
        kind = file_type_of(name)
        return getattr(self, kind) if kind in _LIMIT_KEYS else self.other


def _megabytes(size: int, limit: float) -> str:
    shown = f"{size / MB:.1f} MB"
    # 15.01 MB would read "15.0 MB" next to a 15 MB limit: then the bytes say why it is over.
    return shown if round(size / MB, 1) > limit else f"{shown} ({size:,} bytes)"


def size_problem(path: Path, limits: SizeLimits) -> str | None:
    """Why Dify would refuse to upload ``path`` for its size (naming the file, its size and the
    limit), or None; a file that cannot be read is left to the other checks."""
    limit = limits.limit_for(path.name)
    if limit is None:
        return None
    try:
        size = path.expanduser().stat().st_size
    except OSError:
        return None
    if size <= limit * MB:
        return None
    kind = _KINDS_SHOWN.get(file_type_of(path.name), "files of this type")
    return f"{path.name} is {_megabytes(size, limit)}, over Dify's upload limit of {limit:g} MB for {kind}"


def local_paths(value: object) -> list[Path]:
    """The local files (``Path`` values) of an input's value or a ``files`` list."""
    items: Iterable[object] = value if isinstance(value, (list, tuple)) else [value]
    return [item for item in items if isinstance(item, Path)]


def check_sizes(field: Field, value: object, limits: SizeLimits, naming: Naming = "variable") -> str | None:
    """The first file of a file input's value that is too big to upload, as a message naming the field."""
    for path in local_paths(value):
        problem = size_problem(path, limits)
        if problem:
            return f"{field.called(naming)}: {problem}"
    return None
