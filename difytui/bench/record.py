"""Every suite run recorded in the SQLite state, and "what did this case answer last time?".

A case's identity is its file (relative to the folder given), its name and its target. Rows hold
what the runs produced and how they were graded; never a key (the bench's data carries none).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from difytui.bench.compare import result_text, run_text, unified
from difytui.bench.model import CaseResult, RunResult, SuiteResult, Target
from difytui.store import Store

#: Suites kept (the newest); older ones and their runs are pruned when a suite ends.
SUITES_KEPT = 100
#: Characters of a run's text kept (a runaway answer must not bloat the state file).
MAX_TEXT = 64_000


def run_record(run: RunResult) -> dict[str, Any]:
    """A run as JSON-ready data: turns (answer or outputs, ids, status, timing, usage, nodes),
    its error and each assertion's result and reason."""
    return {
        "error": run.error,
        "verdict": run.verdict,
        "turns": [asdict(turn) for turn in run.turns],
        "assertions": [
            {
                "type": a.assertion.label,
                "line": a.assertion.where.line,
                "passed": a.passed,
                "reason": a.reason,
            }
            for a in run.assertions
        ],
    }


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Recorder:
    """Writes a suite's runs as its cases finish (so an interrupted suite keeps what it did)."""

    def __init__(self, store: Store, default_workspace: str | None = None) -> None:
        self.store = store
        #: the workspace a target without one runs on: part of its identity, so that the previous
        #: run of a case on staging is not the one on production after ``--workspace`` changed
        self.default_workspace = default_workspace

    def target_key(self, target: Target) -> str:
        if target.workspace is None and self.default_workspace is not None:
            return Target(target.app, self.default_workspace).label
        return target.label

    def begin(self, suite: SuiteResult) -> None:
        self.store.write(
            None,
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO bench_suites VALUES (?, ?, 0, 0)", (suite.suite_id, suite.started)
            ),
        )

    def previous(self, suite: SuiteResult, result: CaseResult) -> str | None:
        """The text of the last completed run of the same case and target, in an earlier suite."""

        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT text FROM bench_runs WHERE case_key = ? AND target = ? AND suite_id != ?"
                " AND text IS NOT NULL ORDER BY recorded DESC, rowid DESC LIMIT 1",
                (result.case.key, self.target_key(result.target), suite.suite_id),
            ).fetchone()
            return str(row[0]) if row else None

        return self.store.read(None, read)

    def changed(self, suite: SuiteResult, result: CaseResult) -> str | None:
        """A diff of the previous recorded answer to this one; None if unchanged or never run."""
        before = self.previous(suite, result)
        after = result_text(result)
        if before is None or after is None:
            return None
        return unified(before, after[:MAX_TEXT], "previous run", "this run")

    def record(self, suite: SuiteResult, result: CaseResult) -> None:
        """Set ``result.changed`` (against the previous recorded run) and record the case's runs."""
        result.changed = self.changed(suite, result)
        now = time.time()
        rows = []
        for index, run in enumerate(result.runs):
            text = run_text(run)
            rows.append(
                (
                    suite.suite_id,
                    result.case.key,
                    self.target_key(result.target),
                    index,
                    run.verdict,
                    text[:MAX_TEXT] if text is not None else None,
                    json.dumps(run_record(run), ensure_ascii=False, default=str),
                    now,
                )
            )

        def write(conn: sqlite3.Connection) -> None:
            with _transaction(conn):  # one commit (one wait for the disk) per case
                conn.executemany("INSERT INTO bench_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                conn.execute(
                    "UPDATE bench_suites SET cases = cases + 1 WHERE suite_id = ?", (suite.suite_id,)
                )

        self.store.write(None, write)

    def end(self, suite: SuiteResult) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "UPDATE bench_suites SET interrupted = ? WHERE suite_id = ?",
                    (int(suite.interrupted), suite.suite_id),
                )
                old = "SELECT suite_id FROM bench_suites ORDER BY started DESC, rowid DESC LIMIT -1 OFFSET ?"
                conn.execute(f"DELETE FROM bench_runs WHERE suite_id IN ({old})", (SUITES_KEPT,))
                conn.execute(f"DELETE FROM bench_suites WHERE suite_id IN ({old})", (SUITES_KEPT,))

        self.store.write(None, write)

    def suite_count(self) -> int:
        count = "SELECT COUNT(*) FROM bench_suites"
        return self.store.read(0, lambda conn: int(conn.execute(count).fetchone()[0]))
