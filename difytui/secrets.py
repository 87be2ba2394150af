"""A string wrapper that never shows an API key or token in full."""

from __future__ import annotations


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
