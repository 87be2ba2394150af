"""Save as test case: append what a run did, as a new ``[[case]]``, to ``cases_dir/<app>.toml``.

The case replays the run (its inputs, and its turns for a chat app) and expects what it gave this
time: the run's final ``status`` and a ``similar`` answer (for a workflow, its outputs as compact
JSON, which is the text a workflow's assertions check). ``similar``, not ``equals``, because a model
rarely says the same thing twice word for word; the threshold is the user's to tune.

The file is edited with tomlkit, so the user's comments, order and formatting stay as they were; a
missing file is created with a header comment and ``[defaults] app``. Writes are atomic (temporary
file + rename), and a file that is not valid TOML is left alone with a :class:`ConfigError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Item, Table

from difytui.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SavedCase", "append_case", "case_file"]

_HEADER = """\
Test cases for the app {app!r}, run by `difytui test` (see docs/test-cases.md).
Cases saved from the console are appended at the end; edit them freely: comments are kept.
"""


@dataclass(frozen=True)
class SavedCase:
    """Where the new case went: its file, its (unique) name and the line of its ``[[case]]``."""

    path: Path
    name: str
    line: int


def case_file(cases_dir: Path, app: str) -> Path:
    """``cases_dir/<app>.toml``, with characters a file name cannot hold replaced by ``-``."""
    stem = re.sub(r"[^\w.-]", "-", app).strip(".") or "app"
    return cases_dir / f"{stem}.toml"


def append_case(
    path: Path,
    *,
    app: str,
    name: str,
    inputs: Mapping[str, Any],
    turns: Sequence[str] | None,
    answer_or_outputs: str | Mapping[str, Any] | None,
    status: str = "succeeded",
    workspace: str | None = None,
    files: Sequence[str] = (),
    threshold: float | None = None,
) -> SavedCase:
    """Append a case replaying a run to ``path`` (created when missing) and return where it went.

    ``turns``: a chat app's queries, in order (one → ``query``, several → ``turns``); None or empty
    for workflow and completion apps. ``answer_or_outputs``: the last turn's answer, or a
    workflow's outputs (a mapping); None or "" (a run that gave nothing) adds no ``similar``.
    ``threshold``: the ``similar`` threshold (None: the loader's default, 0.8). ``name`` gets a
    `` (2)``, `` (3)``… suffix when the file has a case of that name already.
    """
    doc, bom = _load(path)
    defaults = doc.get("defaults")
    defaults = defaults if isinstance(defaults, Mapping) else {}
    cases = doc.get("case")
    if cases is None:
        if not doc.body:  # a new file: say what it is, and name the app once
            for line in _HEADER.format(app=app).splitlines():
                doc.add(tomlkit.comment(line))
            doc.add(tomlkit.nl())
            new_defaults = tomlkit.table()
            new_defaults["app"] = app
            doc.add("defaults", new_defaults)
            defaults = new_defaults
        cases = tomlkit.aot()
        doc.append("case", cases)
    elif not isinstance(cases, list):
        raise ConfigError("cannot add a case: 'case' is not an array of [[case]] tables", str(path))

    table = tomlkit.table()
    table.trivia.indent = "\n"  # a blank line before the new [[case]], whatever precedes it
    unique = _unique_name(name, [c.get("name") for c in cases if isinstance(c, Mapping)])
    table["name"] = unique
    if defaults.get("app") != app:
        table["app"] = app
    if workspace is not None and defaults.get("workspace") != workspace:
        table["workspace"] = workspace
    values = _toml_value(dict(inputs))
    if values:
        table["inputs"] = _inline(values)
    queries = list(turns or ())
    if len(queries) == 1:
        table["query"] = _text(queries[0])
    elif queries:
        table["turns"] = [_text(query) for query in queries]
    if files:
        table["files"] = list(files)
    checks = tomlkit.aot()
    checks.append(_assertion(type="status", value=status))
    expected = _as_text(answer_or_outputs) if answer_or_outputs is not None else ""
    if expected:  # nothing to be similar to (the loader refuses an empty value)
        similar: dict[str, Any] = {"type": "similar", "value": _text(expected)}
        if threshold is not None:
            similar["threshold"] = threshold
        checks.append(_assertion(**similar))
    table["assert"] = checks
    cases.append(table)

    text = tomlkit.dumps(doc)
    _write_atomically(path, bom + text)
    return SavedCase(path, unique, _last_case_line(text))


def _load(path: Path) -> tuple[tomlkit.TOMLDocument, str]:
    """The file's document, and its byte order mark if it has one (Notepad's UTF-8: kept as it was)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document(), ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the case file: {getattr(exc, 'strerror', None) or exc}", str(path)
        ) from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    try:
        return tomlkit.parse(text[len(bom) :]), bom
    except TOMLKitError as exc:
        raise ConfigError(f"cannot add a case to a file that is not valid TOML: {exc}", str(path)) from None


def _unique_name(name: str, taken: Sequence[object]) -> str:
    names = {str(t) for t in taken}
    if name not in names:
        return name
    n = 2
    while f"{name} ({n})" in names:
        n += 1
    return f"{name} ({n})"


def _as_text(answer_or_outputs: str | Mapping[str, Any]) -> str:
    """The text a ``similar`` assertion checks: the answer, or a workflow's outputs as compact JSON
    (the form the bench's text assertions read a workflow's outputs in)."""
    if isinstance(answer_or_outputs, str):
        return answer_or_outputs
    return json.dumps(dict(answer_or_outputs), ensure_ascii=False, separators=(",", ":"))


def _assertion(**keys: Any) -> Table:
    table = tomlkit.table()
    for key, value in keys.items():
        table[key] = value
    return table


def _text(value: str) -> Item:
    """A string as people would write it: multi-line when it has line breaks, literal ('…', no
    escapes) when it has double quotes or backslashes (JSON, regexes), else basic ("…"). Each
    form is used only when it reads back unchanged (TOML folds a multi-line string's CRLF into LF;
    a literal string holds no ' and no control character)."""
    if "\n" in value:
        form = {"multiline": True}
    elif '"' in value or "\\" in value:
        form = {"literal": True}
    else:
        return tomlkit.string(value)
    with contextlib.suppress(tomllib.TOMLDecodeError, TOMLKitError):  # the form cannot hold it
        candidate = tomlkit.string(value, **form)
        if tomllib.loads(f"v = {candidate.as_string()}")["v"] == value:
            return candidate
    return tomlkit.string(value)


def _toml_value(value: Any) -> Any:
    """Inputs as TOML can hold them: no nulls (an empty field is left out), paths as text."""
    if isinstance(value, Mapping):
        return {str(k): _toml_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_value(v) for v in value if v is not None]
    if isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _inline(values: dict[str, Any]) -> Any:
    """An inline table (``inputs = {city = "Kyōto"}``), nested ones inline too."""
    table = tomlkit.inline_table()
    for key, value in values.items():
        table[key] = _inline(value) if isinstance(value, dict) else value
    return table


def _last_case_line(text: str) -> int:
    lines = text.splitlines()
    return max(i for i, line in enumerate(lines, 1) if line.strip().startswith("[[case]]"))


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file beside it (a crash leaves the old
    file or the new one, never half of one); a new file gets the usual permissions, an old one
    keeps its own."""
    target = Path(os.path.realpath(path))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, os.stat(target).st_mode & 0o7777)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ConfigError(f"cannot write the case file: {exc.strerror or exc}", str(path)) from None
    except BaseException:  # Ctrl+C included: never leave the temporary file behind
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
