"""``difytui test --json FILE``: the full report, for scripts and for comparing suites later.

Everything a run produced (answers or outputs, ids, status, timing, usage, nodes) and each
assertion's result and reason; never a key (the bench's data carries none).
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from difytui.bench.compare import latency, matrix, tokens
from difytui.bench.model import CaseResult, SuiteResult
from difytui.bench.record import run_record

FORMAT_VERSION = 1


def to_dict(suite: SuiteResult, elapsed: float | None = None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "suite_id": suite.suite_id,
        "started": datetime.fromtimestamp(suite.started, timezone.utc).isoformat(),
        "elapsed_s": elapsed,
        "interrupted": suite.interrupted,
        "targets": [target.label for target in suite.targets],
        "totals": {
            "cases": len(suite.results),
            "passed": suite.count("pass"),
            "failed": suite.count("fail"),
            "errors": suite.count("error"),
            "not_run": len(suite.not_run),
        },
        "results": [_result(result) for result in suite.results],
        # cases × targets that did not finish (Ctrl+C, --fail-fast): what a rerun still has to do
        "not_run": [
            {"file": r.case.rel, "case": r.case.name, "line": r.case.where.line, "target": r.target.label}
            for r in suite.not_run
        ],
    }
    rows = [row for row in matrix(suite) if len(row.results) > 1]
    if rows:
        report["comparison"] = [
            {
                "file": row.case.rel,
                "case": row.case.name,
                "differs": row.differs,
                "unanswered": [target.label for target in row.unanswered],
                "diffs": {target.label: diff for target, diff in row.diffs.items()},
            }
            for row in rows
        ]
    return report


def _result(result: CaseResult) -> dict[str, Any]:
    case = result.case
    return {
        "file": case.rel,
        "case": case.name,
        "line": case.where.line,
        "target": result.target.label,
        "verdict": result.verdict,
        "passed_runs": result.passed_runs,
        "runs_total": len(result.runs),
        "pass_rate": case.pass_rate,
        "latency_p50_s": latency(result),
        "tokens_p50": tokens(result),
        "changed": result.changed,
        "runs": [run_record(run) for run in result.runs],
    }


def dumps(suite: SuiteResult, elapsed: float | None = None) -> str:
    # ASCII escapes: a lone surrogate in server text is legal JSON text but no encoding writes it.
    return json.dumps(_finite(to_dict(suite, elapsed)), indent=2, ensure_ascii=True, default=str) + "\n"


def write(path: Path, suite: SuiteResult, elapsed: float | None = None) -> None:
    """Write the report atomically (a half-written report is worse than the previous one)."""
    text = dumps(suite, elapsed)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
