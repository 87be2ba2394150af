"""What the Tests view shows for a case, as Rich ``Text`` (no widgets): its status cell, and its
detail (the transcript or outputs, each assertion with pass/fail and reason, the diffs).

Everything the server said is data: it goes through :func:`~difytui.tui.safe_text.clean` into
plain ``Text`` (never markup, never terminal escapes).
"""

from __future__ import annotations

import json
import time

from rich.text import Text

from difytui.bench.compare import latency, result_text, tokens, unified
from difytui.bench.last_results import LastResult
from difytui.bench.model import AssertionResult, Case, CaseResult, RunResult, TurnResult, Verdict
from difytui.tui.safe_text import clean, one_line

MARKS: dict[Verdict, tuple[str, str]] = {
    "pass": ("✓ pass", "green"),
    "fail": ("✗ fail", "red"),
    "error": ("! error", "yellow"),
}
#: Characters of an answer shown in the detail (the state keeps more; a screen holds less).
MAX_ANSWER = 4000


def verdict_cell(verdict: Verdict, passed: int, total: int, extra: str = "") -> Text:
    mark, style = MARKS[verdict]
    text = Text(mark, style=f"bold {style}")
    if total > 1:
        text.append(f" {passed}/{total}")
    if extra:
        text.append(f"  {extra}", style="dim")
    return text


def result_cell(result: CaseResult) -> Text:
    p50 = latency(result)
    return verdict_cell(
        result.verdict, result.passed_runs, len(result.runs), f"{p50:.2f} s" if p50 is not None else ""
    )


def last_cell(case: Case, last: LastResult | None) -> Text:
    if last is None:
        return Text("never run", style="dim")
    return verdict_cell(last.verdict(case.pass_rate), last.passed, len(last.verdicts), _ago(last.recorded))


def _ago(when: float) -> str:
    seconds = max(0.0, time.time() - when)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def detail_text(
    case: Case, result: CaseResult | None, last: LastResult | None, other: CaseResult | None = None
) -> Text:
    """The case's detail: this session's result if it ran, else what was recorded last time;
    ``other``: the same case on the app it was compared with."""
    text = Text()
    text.append(one_line(case.name), style="bold")
    text.append(f"\n{clean(str(case.where))}  ·  app {one_line(case.app)}", style="dim")
    if result is None:
        _recorded(text, case, last)
        return text
    text.append("\n\n")
    text.append_text(result_cell(result))
    for number, run in enumerate(result.runs, 1):
        if len(result.runs) > 1:
            text.append(f"\n\nRun {number} of {len(result.runs)}", style="bold underline")
        _run(text, run)
    text.append("\n\nChanged since the previous run", style="bold underline")
    if result.changed:
        _diff(text, result.changed)
    else:
        text.append("\nno change (or no earlier run of this case on this app)", style="dim")
    if other is not None:
        _between(text, result, other)
    return text


def _between(text: Text, result: CaseResult, other: CaseResult) -> None:
    """Where the compared app's answer differs, with latency and tokens side by side."""
    a, b = result.target.label, other.target.label
    text.append(f"\n\nBetween targets: {one_line(a)} ↔ {one_line(b)}", style="bold underline")
    text.append("\n")
    text.append_text(result_cell(result))
    text.append("  ↔  ")
    text.append_text(result_cell(other))
    used = (tokens(result), tokens(other))
    if used != (None, None):
        text.append(f"\ntokens {_or_dash(used[0])} ↔ {_or_dash(used[1])}", style="dim")
    before, after = result_text(result), result_text(other)
    if before is None or after is None:
        text.append("\nno answer to compare (a run errored)", style="dim")
        return
    diff = unified(before, after, a, b)
    if diff is None:
        text.append("\nthe same answer", style="dim")
    else:
        _diff(text, diff)


def _or_dash(value: int | None) -> str:
    return "–" if value is None else str(value)


def _recorded(text: Text, case: Case, last: LastResult | None) -> None:
    if last is None:
        text.append("\n\nNot run yet: r runs it, ctrl+r runs them all.", style="italic")
        return
    text.append("\n\nLast recorded run: ")
    text.append_text(last_cell(case, last))
    if last.error:
        text.append(f"\nerror: {clean(last.error)}", style="yellow")
    for check in last.assertions:
        _assertion(text, check.passed, check.label, check.line, check.reason)
    text.append("\n\nRun it (r) to see its transcript and the diff.", style="dim")


def _run(text: Text, run: RunResult) -> None:
    for number, turn in enumerate(run.turns, 1):
        _turn(text, turn, number if len(run.turns) > 1 else None)
    if run.error is not None:
        text.append(f"\nerror: {clean(run.error)}", style="bold yellow")
    if run.assertions:
        text.append("\n\nAssertions", style="bold underline")
    for outcome in run.assertions:
        _outcome(text, outcome)


def _turn(text: Text, turn: TurnResult, number: int | None) -> None:
    text.append("\n")
    if turn.query is not None:
        label = f"\n› turn {number}: " if number else "\n› "
        text.append(label, style="bold cyan")
        text.append(clean(turn.query))
    if turn.outputs is not None:
        text.append("\noutputs ", style="bold")
        dumped = json.dumps(turn.outputs, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        text.append(clean(_clip(dumped)))
    elif turn.answer:
        text.append("\n")
        text.append(clean(_clip(turn.answer)))
    timing = [f"status {turn.status}"]
    if turn.latency_s is not None:
        timing.append(f"{turn.latency_s:.2f} s")
    if turn.tokens is not None:
        timing.append(f"{turn.tokens} tokens")
    text.append(f"\n{one_line(' · '.join(timing))}", style="dim")


def _outcome(text: Text, outcome: AssertionResult) -> None:
    a = outcome.assertion
    _assertion(text, outcome.passed, a.label, a.where.line, outcome.reason)


def _assertion(text: Text, passed: bool, label: str, line: int, reason: str) -> None:
    text.append("\n✓ " if passed else "\n✗ ", style="bold green" if passed else "bold red")
    text.append(one_line(label), style="bold")
    text.append(f" (line {line})", style="dim")
    if reason:
        text.append(f": {clean(reason)}")


def _diff(text: Text, diff: str) -> None:
    for line in clean(diff).splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        text.append(f"\n{line}", style=style)


def _clip(value: str) -> str:
    return value if len(value) <= MAX_ANSWER else f"{value[:MAX_ANSWER]}… ({len(value) - MAX_ANSWER} more)"
