"""What the bench compares: a case's answer (or outputs JSON) as text, unified diffs of two of them,
and the matrix of cases × targets where targets answered differently."""

from __future__ import annotations

import difflib
import json
import statistics
from dataclasses import dataclass, field

from difytui.bench.model import Case, CaseResult, RunResult, SuiteResult, Target

#: Lines of a diff kept in a report (a diff of two long answers could fill a screen).
MAX_DIFF_LINES = 200


def run_text(run: RunResult) -> str | None:
    """The run's answer (every turn's, for several), or its outputs as sorted JSON; None if it errored."""
    if run.error is not None or not run.turns:
        return None
    if len(run.turns) == 1:
        turn = run.turns[0]
        if turn.outputs is not None:
            return json.dumps(turn.outputs, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        return turn.answer
    return "\n".join(f"[turn {n}] {turn.query or ''}\n{turn.answer}" for n, turn in enumerate(run.turns, 1))


def result_text(result: CaseResult) -> str | None:
    """The text of the case's last run that completed (what "changed" and the matrix compare)."""
    for run in reversed(result.runs):
        text = run_text(run)
        if text is not None:
            return text
    return None


def unified(before: str, after: str, before_name: str, after_name: str) -> str | None:
    """A unified diff of two texts, or None when they are equal; cut at MAX_DIFF_LINES lines."""
    if before == after:
        return None
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), before_name, after_name, lineterm="", n=2
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… ({len(lines) - MAX_DIFF_LINES} more lines)"]
    return "\n".join(lines)


def latency(result: CaseResult) -> float | None:
    """The median latency of the case's completed runs (a run's: its turns' together)."""
    values = [
        sum(turn.latency_s or 0.0 for turn in run.turns)
        for run in result.runs
        if run.error is None and run.turns
    ]
    return statistics.median(values) if values else None


def tokens(result: CaseResult) -> int | None:
    """The median total tokens of the case's completed runs (None if the server reported none)."""
    values = [
        sum(turn.tokens or 0 for turn in run.turns)
        for run in result.runs
        if run.error is None and any(turn.tokens is not None for turn in run.turns)
    ]
    return int(statistics.median(values)) if values else None


@dataclass
class Row:
    """One case across the targets: its result on each, and each target's diff against the first
    that answered."""

    case: Case
    results: dict[Target, CaseResult] = field(default_factory=dict)
    diffs: dict[Target, str] = field(default_factory=dict)  # target → diff of the first's text to its
    unanswered: list[Target] = field(default_factory=list)  # no completed run: nothing to compare

    @property
    def differs(self) -> bool:
        return bool(self.diffs)


def matrix(suite: SuiteResult) -> list[Row]:
    """Cases × targets, in case order, with where each target's answer differs from the first's."""
    rows: dict[str, Row] = {}
    for result in suite.results:
        row = rows.setdefault(result.case.key, Row(result.case))
        row.results[result.target] = result
    for row in rows.values():
        targets = [t for t in suite.targets if t in row.results]
        if len(targets) < 2:
            continue
        texts = {target: result_text(row.results[target]) for target in targets}
        row.unanswered = [target for target, text in texts.items() if text is None]
        answered = [(target, text) for target, text in texts.items() if text is not None]
        if not answered:
            continue
        first, base = answered[0]  # a target that errored must not hide how the others differ
        for other, text in answered[1:]:
            diff = unified(base, text, first.label, other.label)
            if diff is not None:
                row.diffs[other] = diff
    return list(rows.values())
