"""``path = "a.b.0"``: selecting a value inside a JSON document (workflow outputs, a JSON answer)."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "parse_path", "select"]

#: What :func:`select` gives when the path leads nowhere.
MISSING: Any = object()


def parse_path(path: str) -> tuple[tuple[str, ...], str | None]:
    """The path's keys (a number is also a list index), or a problem with how it is written."""
    parts = tuple(path.split("."))
    if not path.strip() or any(not part.strip() for part in parts):
        return (), "write keys separated by dots, like result.items.0.name"
    return parts, None


def select(document: Any, path: str) -> tuple[Any, str]:
    """The value at ``path`` and, when there is none, ``MISSING`` and where the path stopped."""
    value = document
    walked: list[str] = []
    for part in parse_path(path)[0]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING, _missing(value, part, ".".join(walked))
        walked.append(part)
    return value, ""


def _missing(value: Any, part: str, walked: str) -> str:
    inside = f" in {walked}" if walked else ""
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:8]) or "none"
        return f"no key {part!r}{inside} (keys: {keys})"
    if isinstance(value, list):
        return f"no item {part!r}{inside} (a list of {len(value)})"
    return f"{walked or 'the value'} is not an object, so it has no {part!r}"
