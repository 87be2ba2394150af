"""A string wrapper that never shows an API key or token in full."""

from __future__ import annotations

import re

# Keys and tokens go into an HTTP header: visible ASCII only. Anything else (a newline from a
# password manager's extra lines, a stray non-ASCII character) would make the HTTP library fail
# with an error message that quotes the header, key included.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a bearer token, without quoting it; None when it can."""
    if not value:
        return "it is empty"
    if _TOKEN.fullmatch(value):
        return None
    position = next(i for i, char in enumerate(value) if not _TOKEN.fullmatch(char))
    kind = "a space or line break" if value[position].isspace() else "a character that is not plain ASCII"
    return f"it contains {kind} at position {position + 1} of {len(value)}"


def mask(value: str) -> str:
    """``app-9f2kQ…`` → ``app-…Qx7b``: the prefix and the last four characters only."""
    if not value:
        return ""
    prefix, sep, _rest = value.partition("-")
    head = f"{prefix}-" if sep and len(prefix) <= 5 else ""
    tail = value[-4:] if len(value) >= 12 else ""
    return f"{head}…{tail}"


class Secret:
    """Holds a secret; ``str``/``repr``/f-strings show only the masked form. Use ``reveal()`` to send it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
