"""What the bench recorded about a case last time, for the console's Tests view: the verdict of
its newest recorded suite on a target, and that run's graded assertions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from difytui.bench.model import Verdict, repeats_verdict
from difytui.store import Store


@dataclass(frozen=True)
class RecordedAssertion:
    label: str  # the type as written (``not-contains``)
    line: int
    passed: bool
    reason: str


@dataclass(frozen=True)
class LastResult:
    """A case's runs on one target in the newest suite that ran it."""

    verdicts: tuple[Verdict, ...]  # one per repeat
    recorded: float  # epoch seconds
    error: str | None = None  # the last run's error, if it errored
    assertions: tuple[RecordedAssertion, ...] = field(default=())  # the last run's

    @property
    def passed(self) -> int:
        return sum(1 for verdict in self.verdicts if verdict == "pass")

    def verdict(self, pass_rate: float) -> Verdict:
        """The case's verdict, as :attr:`CaseResult.verdict` adds it up."""
        return repeats_verdict(self.verdicts, pass_rate)


def last_results(store: Store, keys: Sequence[str], target: str) -> dict[str, LastResult]:
    """The newest recorded result of each case key on ``target`` (cases never run are absent)."""

    def read(conn: sqlite3.Connection) -> dict[str, LastResult]:
        found: dict[str, LastResult] = {}
        for key in keys:
            newest = conn.execute(
                "SELECT suite_id FROM bench_runs WHERE case_key = ? AND target = ?"
                " ORDER BY recorded DESC, rowid DESC LIMIT 1",
                (key, target),
            ).fetchone()
            if newest is None:
                continue
            rows = conn.execute(
                "SELECT verdict, data, recorded FROM bench_runs WHERE suite_id = ? AND case_key = ?"
                " AND target = ? ORDER BY repeat_index",
                (newest[0], key, target),
            ).fetchall()
            found[key] = _result(rows)
        return found

    return store.read({}, read)


def _result(rows: list[tuple[str, str, float]]) -> LastResult:
    verdicts = tuple(_verdict(row[0]) for row in rows)
    data = _json(rows[-1][1])
    checks = data.get("assertions")
    assertions = tuple(
        RecordedAssertion(
            str(a.get("type", "")), int(a.get("line") or 0), bool(a.get("passed")), str(a.get("reason", ""))
        )
        for a in (checks if isinstance(checks, list) else [])
        if isinstance(a, dict)
    )
    error = data.get("error")
    return LastResult(verdicts, float(rows[-1][2]), str(error) if error else None, assertions)


def _verdict(text: str) -> Verdict:
    if text == "pass":
        return "pass"
    return "error" if text == "error" else "fail"


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
