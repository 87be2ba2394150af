"""The summary people read after ``difytui test``: one line per case and target, totals, the
targets side by side where they answered differently, and the diffs of answers that changed.

Server text (answers, reasons, error messages) is made inert with :func:`~difytui.text.printable`.
"""

from __future__ import annotations

from difytui.bench.compare import latency, matrix, tokens
from difytui.bench.model import AssertionResult, CaseResult, SuiteResult, Verdict
from difytui.text import printable

MARKS: dict[Verdict, str] = {"pass": "✓", "fail": "✗", "error": "!"}
#: Characters of a reason or error kept on a summary line.
MAX_REASON = 160


def render(suite: SuiteResult, elapsed: float | None = None) -> str:
    """The whole summary, as lines of plain, terminal-safe text."""
    lines = [case_line(result) for result in suite.results]
    lines.append(totals(suite, elapsed))
    lines += _comparison(suite)
    lines += _changes(suite)
    return printable("\n".join(lines))


def case_line(result: CaseResult) -> str:
    """``✓ file › name [target]  k/N passed  p50 0.21 s``, then why it failed or errored."""
    verdict = result.verdict
    line = (
        f"{MARKS[verdict]} {result.case.rel} › {result.case.name} [{result.target.label}]"
        f"  {result.passed_runs}/{len(result.runs)} passed"
    )
    p50 = latency(result)
    if p50 is not None:
        line += f"  p50 {p50:.2f} s"
    why = reason(result)
    if why:
        line += f"  — {why}"
    return line


def reason(result: CaseResult) -> str:
    """Why a case did not pass: its first failing assertion, or the error of its first errored run."""
    if result.verdict == "pass":
        return ""
    if result.verdict == "error":
        error = next((run.error for run in result.runs if run.error), "")
        return _clip(f"error: {error}")
    failing = first_failure(result)
    if failing is None:
        return ""
    assertion = failing.assertion
    return _clip(f"{assertion.label} (line {assertion.where.line}): {failing.reason}")


def first_failure(result: CaseResult) -> AssertionResult | None:
    for run in result.runs:
        for outcome in run.assertions:
            if not outcome.passed:
                return outcome
    return None


def totals(suite: SuiteResult, elapsed: float | None = None) -> str:
    counts = f"{suite.count('pass')} passed, {suite.count('fail')} failed, {suite.count('error')} errors"
    line = f"{counts} ({len(suite.results)} cases × targets"
    line += f", {elapsed:.1f} s)" if elapsed is not None else ")"
    if suite.not_run:
        why = "interrupted" if suite.interrupted else "--fail-fast"
        line += f"; {len(suite.not_run)} not run ({why})"
    elif suite.interrupted:
        line += "; interrupted"
    return line


def _comparison(suite: SuiteResult) -> list[str]:
    rows = [row for row in matrix(suite) if len(row.results) > 1]
    if not rows:
        return []
    lines = ["", "Targets side by side (verdict, p50 latency, tokens):"]
    for row in rows:
        if row.unanswered:
            note = "  (no answer from " + ", ".join(t.label for t in row.unanswered) + ")"
        else:
            note = "" if row.differs else "  (same answers)"
        lines.append(f"  {row.case.rel} › {row.case.name}{note}")
        width = max(len(t.label) for t in row.results)
        for target, result in row.results.items():
            p50, used = latency(result), tokens(result)
            cells = [
                f"{MARKS[result.verdict]} {result.passed_runs}/{len(result.runs)}",
                f"{p50:.2f} s" if p50 is not None else "–",
                f"{used} tokens" if used is not None else "– tokens",
            ]
            lines.append(f"    {target.label:<{width}}  " + "  ".join(cells))
        for diff in row.diffs.values():
            lines += ["    " + line for line in diff.splitlines()]
    return lines


def _changes(suite: SuiteResult) -> list[str]:
    changed = [result for result in suite.results if result.changed]
    if not changed:
        return []
    lines = ["", "Changed since the previous run:"]
    for result in changed:
        lines.append(f"  {result.case.rel} › {result.case.name} [{result.target.label}]")
        lines += ["    " + line for line in (result.changed or "").splitlines()]
    return lines


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
