"""The value checks of a case file's reader, and its problems: each with the file and line of the
offending key (found with :class:`~difytui.toml_lines.Locator`, as tomllib gives no positions)."""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from difytui.errors import ConfigError, DifyError
from difytui.toml_lines import Locator, type_name

from .model import Where

__all__ = ["CaseFileError", "Problem", "Reported", "ValueReader", "shown"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a case file, where it is (line None: the file as a whole)."""

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class CaseFileError(ConfigError):
    """One or more case-file problems; ``str()`` gives one ``file:line: message`` line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        self.message = first.message
        self.path = str(first.file)
        self.line = first.line
        DifyError.__init__(self, "\n".join(str(problem) for problem in self.problems))


class Reported(Exception):
    """A problem already recorded: stop reading the table it is in."""


class ValueReader:
    """Where a key is, the problem it has, and the checks of the values case files hold."""

    def __init__(self, file: Path, text: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.loc = Locator(text)

    def where(self, *key_path: str | int) -> Where:
        return Where(self.file, self.loc.line_of(key_path) or 1)

    def problem(self, message: str, *key_path: str | int) -> Reported:
        self.problems.append(Problem(self.file, self.loc.line_of(key_path), message))
        return Reported()

    def unknown_keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], what: str, *at: str | int
    ) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(
                    f"unknown key {key!r} in {what}{hint}; allowed keys: {', '.join(allowed)}", *at, key
                )

    # -- the file
    def string(self, value: Any, *at: str | int) -> str:
        if not isinstance(value, str):
            raise self.problem(f"{at[-1]} must be a string (got {type_name(value)})", *at)
        if not value.strip():
            raise self.problem(f"{at[-1]} must not be empty", *at)
        return value

    def strings(self, value: Any, *at: str | int, empty_ok: bool = True) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            got = type_name(value) if not isinstance(value, list) else "an array with other values"
            raise self.problem(f"{at[-1]} must be an array of strings (got {got})", *at)
        if not empty_ok and not all(v.strip() for v in value):
            raise self.problem(f"{at[-1]} must not hold empty strings", *at)
        return value

    def table(self, value: Any, *at: str | int) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.problem(f"{at[-1]} must be a table (got {type_name(value)})", *at)
        self.json_value(value, *at)
        return value

    def json_value(self, value: Any, *at: str | int) -> Any:
        """``value``, which must have a JSON equivalent (TOML dates and times have none)."""
        odd = _non_json(value)
        if odd is not None:
            raise self.problem(f"{at[-1]} holds a {odd}, which JSON cannot carry: write it as a string", *at)
        return value

    def number(self, value: Any, *at: str | int) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.problem(f"{at[-1]} must be a number (got {shown(value)})", *at)
        return float(value)

    def regex(self, value: Any, flags: int, *at: str | int) -> str:
        pattern = self.string(value, *at)
        try:
            re.compile(pattern, flags)
        except re.error as exc:
            raise self.problem(f"{at[-1]} is not a valid regular expression: {exc}", *at) from None
        return pattern


def _non_json(value: Any) -> str | None:
    """The name of the first value inside ``value`` that is not JSON (a TOML date or time)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return next((odd for odd in map(_non_json, value) if odd is not None), None)
    if isinstance(value, (datetime.date, datetime.time)):
        return "date" if type(value) is datetime.date else type(value).__name__
    return None


def shown(value: Any) -> str:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return repr(value)
    return type_name(value)
