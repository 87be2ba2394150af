"""Case files: TOML ``[defaults]`` and ``[[case]]`` tables → :class:`~difytui.bench.model.Case`.

Every problem is reported with the file and line of the offending key, all of them at once, and
nothing is returned: a suite with a bad file does not run (``difytui test`` exits 2). Checks that
need the target app's interface (``query`` on a workflow app) wait for :func:`check_target`.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from difytui.toml_lines import decode_error, type_name

from .case_targets import check_target, grader_needs_inputs, graders
from .case_values import CaseFileError, Problem, Reported, ValueReader, shown
from .model import (
    ASSERTION_TYPES,
    DEFAULT_PASS_RATE,
    DEFAULT_REPEAT,
    DEFAULT_TIMEOUT_S,
    MAX_REPEAT,
    RUN_STATUSES,
    TEXT_TYPES,
    Assertion,
    Case,
    Where,
)
from .paths import parse_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

__all__ = ["CaseFileError", "Problem", "check_target", "grader_needs_inputs", "graders", "load_cases"]

_TOP_KEYS = ("defaults", "case")
_CASE_KEYS = (
    "name", "app", "workspace", "inputs", "query", "turns", "files",
    "repeat", "pass_rate", "timeout_s", "assert",
)  # fmt: skip
_DEFAULT_KEYS = ("app", "workspace", "inputs", "files", "repeat", "pass_rate", "timeout_s")
_NOT_IN_DEFAULTS = ("name", "query", "turns", "assert")

#: The keys each assertion type accepts, besides ``type``; the first ones listed are required.
_TEXT_KEYS = ("value", "path", "turn")
_ASSERT_KEYS: dict[str, tuple[str, ...]] = {
    **{t: _TEXT_KEYS for t in TEXT_TYPES},
    "is-json": ("path", "turn"),
    "similar": (*_TEXT_KEYS, "threshold"),
    "status": ("value", "turn"),
    "node": ("value", "status", "turn"),
    "latency": ("threshold", "turn"),
    "first-token": ("threshold", "turn"),
    "tokens": ("threshold", "turn"),
    "cost": ("threshold", "turn"),
    "judge": ("value", "app", "inputs", "query", "path", "pass", "turn"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "is-json": (),
    "latency": ("threshold",),
    "first-token": ("threshold",),
    "tokens": ("threshold",),
    "cost": ("threshold",),
    "judge": ("value", "app"),
}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Loading


def load_cases(paths: Sequence[Path], *, root: Path | None = None) -> list[Case]:
    """The cases of ``paths`` (files, or folders: every ``*.toml`` under them, sorted), in order.

    A case's ``rel`` is its file relative to the folder given (or ``root``, when the file is under
    it), else the file's name. Raises :class:`CaseFileError` listing every problem found.
    """
    problems: list[Problem] = []
    cases: list[Case] = []
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if given.is_dir():
            # Hidden files and folders (.git, an editor's .#backup.toml) are not cases.
            found = sorted(
                p for p in given.rglob("*.toml") if p.is_file() and not _hidden(p.relative_to(given))
            )
            files = [(p, p.relative_to(given).as_posix()) for p in found]
        elif given.is_file():
            files = [(given, given.name)]
        else:
            problems.append(Problem(given, None, "no such file or folder"))
            continue
        for file, rel in files:
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            if root is not None and key.is_relative_to(root.resolve()):
                rel = key.relative_to(root.resolve()).as_posix()
            cases.extend(_load_file(file, rel, problems))
    if problems:
        raise CaseFileError(problems)
    return cases


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _load_file(file: Path, rel: str, problems: list[Problem]) -> list[Case]:
    try:
        text = file.read_bytes().decode("utf-8-sig")  # a BOM (Notepad) is not TOML
    except UnicodeDecodeError as exc:
        problems.append(Problem(file, None, f"not UTF-8 text: {exc.reason}"))
        return []
    except OSError as exc:
        problems.append(Problem(file, None, f"cannot read the case file: {exc.strerror}"))
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = decode_error(exc)
        problems.append(Problem(file, line, message))
        return []
    start = len(problems)
    cases = _FileReader(file, rel, text, problems).read(data)
    problems[start:] = sorted(problems[start:], key=lambda problem: problem.line or 0)
    return cases


class _FileReader(ValueReader):
    """One file's tables → cases; every problem recorded with its line (see :class:`ValueReader`)."""

    def __init__(self, file: Path, rel: str, text: str, problems: list[Problem]) -> None:
        super().__init__(file, text, problems)
        self.rel = rel

    # -- the file

    def read(self, data: dict[str, Any]) -> list[Case]:
        before = len(self.problems)
        self.unknown_keys(data, _TOP_KEYS, "a case file")
        defaults, default_lines = self.defaults(data.get("defaults", {}))
        raw_cases = data.get("case", [])
        if not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
            self.problem("case must be an array of tables: write each case under [[case]]", "case")
            return []
        cases: list[Case] = []
        names: dict[str, int] = {}
        for index, raw in enumerate(raw_cases):
            try:
                case = self.case(index, raw, defaults, default_lines)
            except Reported:
                continue
            if case.name in names:
                first = names[case.name]
                self.problem(
                    f"duplicate case name {case.name!r} (first at line {first})", "case", index, "name"
                )
                continue
            names[case.name] = case.where.line
            cases.append(case)
        return cases if len(self.problems) == before else []

    def defaults(self, raw: Any) -> tuple[dict[str, Any], dict[str, Where]]:
        """The checked ``[defaults]`` values, and where each was written."""
        if not isinstance(raw, dict):
            self.problem("defaults must be a table: [defaults]", "defaults")
            return {}, {}
        for key in raw:
            if key in _NOT_IN_DEFAULTS:
                self.problem(f"{key} cannot be a default: set it in each [[case]]", "defaults", key)
        others = {k: v for k, v in raw.items() if k not in _NOT_IN_DEFAULTS}
        self.unknown_keys(others, _DEFAULT_KEYS, "[defaults]", "defaults")
        values: dict[str, Any] = {}
        lines: dict[str, Where] = {}
        for key in _DEFAULT_KEYS:
            if key in raw:
                lines[key] = self.where("defaults", key)
                with contextlib.suppress(Reported):
                    values[key] = self.value(key, raw[key], "defaults", key)
        return values, lines

    # -- one case

    def case(
        self, index: int, raw: dict[str, Any], defaults: dict[str, Any], default_lines: dict[str, Where]
    ) -> Case:
        at: tuple[str | int, ...] = ("case", index)
        before = len(self.problems)
        header = self.where(*at)
        self.unknown_keys(raw, _CASE_KEYS, "[[case]]", *at)
        name = raw.get("name")
        if name is None:
            raise self.problem("a [[case]] needs a name", *at)
        if not isinstance(name, str) or not name.strip():
            raise self.problem(f"name must be a non-empty string (got {type_name(name)})", *at, "name")
        key_lines = dict(default_lines)
        values = dict(defaults)
        for key in _CASE_KEYS:
            if key in ("name", "assert") or key not in raw:
                continue
            key_lines[key] = self.where(*at, key)
            try:
                value = self.value(key, raw[key], *at, key)
            except Reported:
                continue
            if key == "inputs":
                value = {**values.get("inputs", {}), **value}
            values[key] = value
        if "query" in raw and "turns" in raw:
            self.problem("give either query (one turn) or turns (several), not both", *at, "turns")
        if "app" not in values:
            self.problem(f"case {name!r} has no app: set app in the case or in [defaults]", *at)
        turns = values.get("turns") or ((values["query"],) if "query" in values else ())
        assertions = self.assertions(raw.get("assert", []), len(turns), *at)
        if len(self.problems) != before:
            raise Reported()
        return Case(
            name=name,
            file=self.file.absolute(),
            rel=self.rel,
            where=header,
            app=values["app"],
            workspace=values.get("workspace"),
            inputs=values.get("inputs", {}),
            turns=tuple(turns),
            files=tuple(values.get("files", ())),
            repeat=values.get("repeat", DEFAULT_REPEAT),
            pass_rate=values.get("pass_rate", DEFAULT_PASS_RATE),
            timeout_s=values.get("timeout_s", DEFAULT_TIMEOUT_S),
            assertions=assertions,
            key_lines=key_lines,
        )

    def value(self, key: str, value: Any, *at: str | int) -> Any:
        """A case (or defaults) key's value, checked and normalised."""
        if key in ("name", "app", "workspace", "query"):
            return self.string(value, *at)
        if key == "inputs":
            return self.table(value, *at)
        if key == "turns":
            turns = self.strings(value, *at)
            if not turns:
                raise self.problem("turns must list at least one query", *at)
            return tuple(turns)
        if key == "files":
            return tuple(self.file_ref(ref, *at) for ref in self.strings(value, *at, empty_ok=False))
        if key == "repeat":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_REPEAT:
                raise self.problem(
                    f"repeat must be a whole number from 1 to {MAX_REPEAT} (got {shown(value)})", *at
                )
            return value
        if key == "pass_rate":
            rate = self.number(value, *at)
            if not 0 < rate <= 1:
                raise self.problem(f"pass_rate must be more than 0 and at most 1 (got {shown(value)})", *at)
            return rate
        if key == "timeout_s":
            seconds = self.number(value, *at)
            if seconds <= 0:
                raise self.problem(f"timeout_s must be a number of seconds > 0 (got {shown(value)})", *at)
            return seconds
        raise AssertionError(key)  # pragma: no cover - every key of _CASE_KEYS is handled above

    def file_ref(self, ref: str, *at: str | int) -> str:
        """A URL as written; a path relative to the case file, made absolute (it must exist)."""
        if _URL.match(ref):
            return ref
        path = (self.file.parent / Path(ref).expanduser()).absolute()
        if not path.is_file():
            raise self.problem(f"files: no such file {ref!r} (looked for {path})", *at)
        return str(path)

    # -- assertions

    def assertions(self, raw: Any, turns: int, *case_at: str | int) -> tuple[Assertion, ...]:
        if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
            message = "assert must be an array of tables: write each one under [[case.assert]]"
            self.problem(message, *case_at, "assert")
            return ()
        out: list[Assertion] = []
        for index, table in enumerate(raw):
            try:
                out.append(self.assertion(table, turns, *case_at, "assert", index))
            except Reported:
                continue
        return tuple(out)

    def assertion(self, raw: dict[str, Any], turns: int, *at: str | int) -> Assertion:
        label = raw.get("type")
        if label is None:
            raise self.problem(f"an assertion needs a type: one of {', '.join(_all_labels())}", *at)
        if not isinstance(label, str):
            raise self.problem(f"type must be a string (got {type_name(label)})", *at, "type")
        negate = label.startswith("not-") and label[4:] in TEXT_TYPES
        base = label[4:] if negate else label
        if base not in ASSERTION_TYPES:
            close = difflib.get_close_matches(label, _all_labels(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.problem(
                f"unknown assertion type {label!r}{hint}; known types: {', '.join(ASSERTION_TYPES)} "
                "(the text types also as not-…)",
                *at,
                "type",
            )
        before = len(self.problems)
        allowed = ("type", *_ASSERT_KEYS[base])
        self.unknown_keys(raw, allowed, f"a {label} assertion", *at)
        for key in _REQUIRED.get(base, ("value",)):
            if key not in raw:
                self.problem(f"a {label} assertion needs {key}", *at, "type")
        fields: dict[str, Any] = {}
        for key in allowed[1:]:
            if key in raw:
                with contextlib.suppress(Reported):
                    fields[key] = self.assert_value(base, key, raw[key], turns, *at, key)
        if len(self.problems) != before:
            raise Reported()
        return Assertion(
            type=base,
            where=self.where(*at),
            negate=negate,
            value=fields.get("value"),
            threshold=fields.get("threshold"),
            path=fields.get("path"),
            turn=fields.get("turn"),
            status=fields.get("status"),
            app=fields.get("app"),
            inputs=fields.get("inputs"),
            query=fields.get("query"),
            pass_pattern=fields.get("pass"),
        )

    def assert_value(self, base: str, key: str, value: Any, turns: int, *at: str | int) -> Any:
        if key == "value":
            return self.assert_main_value(base, value, *at)
        if key == "threshold":
            number = self.number(value, *at)
            if base == "similar" and not 0 <= number <= 1:
                raise self.problem(f"a similar threshold is a ratio from 0 to 1 (got {shown(value)})", *at)
            if base != "similar" and number < 0:
                raise self.problem(f"threshold must not be negative (got {shown(value)})", *at)
            return number
        if key == "path":
            path = self.string(value, *at)
            problem = parse_path(path)[1]
            if problem:
                raise self.problem(f"path {path!r}: {problem}", *at)
            return path
        if key == "turn":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise self.problem(f"turn must be a whole number ≥ 1 (got {shown(value)})", *at)
            if turns and value > turns:
                plural = "s" if turns > 1 else ""
                raise self.problem(f"turn {value}: the case has only {turns} turn{plural}", *at)
            return value
        if key in ("status", "app", "query"):
            return self.string(value, *at)
        if key == "inputs":
            return self.table(value, *at)
        if key == "pass":
            return self.regex(value, re.IGNORECASE, *at)
        raise AssertionError(key)  # pragma: no cover - every assertion key is handled above

    def assert_main_value(self, base: str, value: Any, *at: str | int) -> Any:
        if base == "equals":
            return self.json_value(value, *at)  # compared as JSON with path or on outputs
        if base in ("contains-any", "contains-all"):
            items = self.strings(value, *at)
            if not items:
                raise self.problem(f"{base} needs at least one string in value", *at)
            return tuple(items)
        if base == "regex":
            return self.regex(value, 0, *at)
        if base == "status":
            status = self.string(value, *at)
            if status not in RUN_STATUSES:
                raise self.problem(f"status must be one of {', '.join(RUN_STATUSES)} (got {status!r})", *at)
            return status
        return self.string(value, *at)


def _all_labels() -> list[str]:
    return [*ASSERTION_TYPES, *(f"not-{t}" for t in TEXT_TYPES)]
