"""Line numbers for TOML documents: tomllib reports positions only for syntax errors.

Well-formed but wrong documents (an unknown key, a wrong type) still deserve ``file:line``, so
:class:`Locator` re-scans the text for table headers and ``key =`` lines (best effort). Used by the
config loader and the bench's case files; arrays of tables (``[[case]]``) are indexed, so
``("case", 1, "assert", 0, "value")`` names the first assertion of the second case.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

__all__ = ["KeyPath", "Locator", "decode_error", "split_key", "type_name"]

#: A key path: table and key names, with the 0-based index of an array-of-tables element.
KeyPath = tuple[str | int, ...]

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER_RE = re.compile(rf"^\s*\[\s*({_DOTTED_KEY})\s*\]\s*(?:#.*)?$")
_ARRAY_HEADER_RE = re.compile(rf"^\s*\[\[\s*({_DOTTED_KEY})\s*\]\]\s*(?:#.*)?$")
_ASSIGN_RE = re.compile(rf"^\s*({_DOTTED_KEY})\s*=")
_PART_RE = re.compile(_KEY_PART)
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def split_key(dotted: str) -> tuple[str, ...]:
    """``a."b.c".d`` → ``("a", "b.c", "d")``."""
    parts = []
    for raw in _PART_RE.findall(dotted):
        if raw.startswith('"'):
            try:  # TOML basic-string escapes are JSON's (plus \U, \e: rare in keys)
                parts.append(json.loads(raw))
            except ValueError:
                parts.append(raw[1:-1])
        elif raw.startswith("'"):
            parts.append(raw[1:-1])
        else:
            parts.append(raw)
    return tuple(parts)


def type_name(value: Any) -> str:
    """``a string``, ``an integer``…: how error messages name a TOML value's type."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def decode_error(exc: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    """A syntax error's message (``invalid TOML: …``, without tomllib's position suffix) and line."""
    line = getattr(exc, "lineno", None)
    message = getattr(exc, "msg", None) or str(exc)
    match = _TOML_POS.search(str(exc))
    if match and line is None:
        line = int(match.group(1))
    return f"invalid TOML: {_TOML_POS.sub('', message).strip()}", line


class Locator:
    """Maps key paths to the 1-based line of their table header or ``key =`` line."""

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[KeyPath, int]] = []
        self._arrays: dict[KeyPath, int] = {}  # array-of-tables path → elements seen so far
        self._first: dict[KeyPath, int] | None = None  # path → the line it is first written on
        table: KeyPath = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            array = _ARRAY_HEADER_RE.match(line)
            if array:
                table = self._new_element(split_key(array.group(1)))
                self.entries.append((table, number))
                continue
            header = _HEADER_RE.match(line)
            if header:
                table = self._resolve(split_key(header.group(1)))
                self.entries.append((table, number))
                continue
            assign = _ASSIGN_RE.match(line)
            if assign:
                key = (*table, *split_key(assign.group(1)))
                self.entries.append((key, number))
                self._inline(key, line[assign.end() :], number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
                    break

    def _resolve(self, names: tuple[str, ...]) -> KeyPath:
        # [case.extra] after [[case]] means the last element of the array: insert its index.
        path: KeyPath = ()
        for name in names:
            path = (*path, name)
            if path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _new_element(self, names: tuple[str, ...]) -> KeyPath:
        array = (*self._resolve(names[:-1]), names[-1])
        index = self._arrays.get(array, 0)
        self._arrays[array] = index + 1
        return (*array, index)

    def _inline(self, key: KeyPath, rest: str, number: int) -> None:
        # Inline tables on one line: `bot = { api_key_env = "X" }` → record bot.api_key_env too.
        if not rest.lstrip().startswith("{"):
            return
        for match in re.finditer(rf"[{{,]\s*({_DOTTED_KEY})\s*=", rest):
            self.entries.append(((*key, *split_key(match.group(1))), number))

    def line_of(self, key_path: KeyPath | list[str]) -> int | None:
        target = tuple(key_path)
        if not target:
            return None
        if self._first is None:  # built once: a file of 1,000 cases asks for thousands of lines
            self._first = {}
            for path, number in self.entries:
                self._first.setdefault(path, number)
        # The deepest written key or header that the path lies under.
        for depth in range(len(target), 0, -1):
            found = self._first.get(target[:depth])
            if found is not None:
                return found
        # A table implied by deeper headers ([a.b.c] without [a.b]): point at the first one.
        for path, number in self.entries:
            if path[: len(target)] == target:
                return number
        return None
