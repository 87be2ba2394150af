"""Grading a run: every assertion of a case → pass or fail with a short reason for people.

The text checked is the answer (chat and completion) of the assertion's ``turn`` or the last one,
or for workflows the outputs; ``path`` selects inside the outputs, or inside the answer parsed as
JSON. A run that did not succeed fails the case unless the case asserts ``status`` itself.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .model import DEFAULT_SIMILAR_THRESHOLD, Assertion, AssertionResult, Case, RunResult, TurnResult
from .paths import MISSING, select

__all__ = ["Judge", "check", "clip", "compact_json", "grade", "pick_turn"]

#: Grades a ``judge`` assertion (see :func:`difytui.bench.judge.make_judge`).
Judge = Callable[[Assertion, Case, RunResult], Awaitable[AssertionResult]]

_CLIP = 40


async def grade(case: Case, run: RunResult, judge: Judge | None = None) -> list[AssertionResult]:
    """Each assertion's result, in the file's order; a failed run's own failure first."""
    results: list[AssertionResult] = []
    if not any(a.type == "status" for a in case.assertions):
        failed = _run_failure(case, run)
        if failed is not None:
            results.append(failed)
    for assertion in case.assertions:
        if assertion.type != "judge":
            results.append(check(assertion, run))
        elif run.error is not None:
            results.append(AssertionResult(assertion, False, "not judged: the run did not complete"))
        elif judge is None:
            results.append(AssertionResult(assertion, False, "no judge available to grade this"))
        else:
            results.append(await judge(assertion, case, run))
    return results


def _run_failure(case: Case, run: RunResult) -> AssertionResult | None:
    """``run failed: <error>`` when a turn did not succeed (the implicit status check)."""
    implicit = Assertion(type="status", where=case.where, value="succeeded")
    if run.error is not None and not run.turns:
        return AssertionResult(implicit, False, f"run failed: {run.error}")
    for number, turn in enumerate(run.turns, start=1):
        if turn.status != "succeeded":
            where = f" (turn {number})" if len(run.turns) > 1 else ""
            error = turn.error or run.error or f"status {turn.status}"
            return AssertionResult(implicit, False, f"run failed{where}: {error}")
    return None


def pick_turn(assertion: Assertion, run: RunResult) -> tuple[TurnResult | None, str]:
    """The turn an assertion checks (its ``turn``, else the last) or why there is none."""
    if not run.turns:
        return None, "the run produced no answer"
    if assertion.turn is None:
        return run.turns[-1], ""
    if assertion.turn > len(run.turns):
        return None, f"no turn {assertion.turn}: the run has {len(run.turns)}"
    return run.turns[assertion.turn - 1], ""


def is_workflow(turn: TurnResult) -> bool:
    """A workflow run has outputs and no query (chat turns have a query, completions no outputs)."""
    return turn.query is None and turn.outputs is not None


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def clip(text: str, limit: int = _CLIP) -> str:
    """``'Hello, wor…'``: a one-line, quoted start of ``text`` for a reason."""
    flat = " ".join(text.split())
    flat = "".join(ch for ch in flat if ch.isprintable())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def check(assertion: Assertion, run: RunResult) -> AssertionResult:
    """Every assertion type but ``judge``."""
    turn, missing = pick_turn(assertion, run)
    if turn is None:
        if assertion.type == "status":
            return _result(assertion, False, f"expected status {assertion.value}; {missing}")
        return _result(assertion, False, missing)
    if assertion.type in _RUN_CHECKS:
        return _RUN_CHECKS[assertion.type](assertion, turn, run)
    subject = _subject(assertion, turn)
    if subject.problem:
        return _result(assertion, False, subject.problem)
    passed, detail = _TEXT_CHECKS[assertion.type](assertion, subject)
    if assertion.negate:
        passed = not passed
    return _result(assertion, passed, detail(passed, assertion.negate))


def _result(assertion: Assertion, passed: bool, reason: str) -> AssertionResult:
    return AssertionResult(assertion, passed, reason)


# --------------------------------------------------------------------------------------------
# What a text assertion checks


@dataclass
class _Subject:
    name: str  # "answer", "outputs", "outputs.a.b", "turn 2 answer"…
    value: Any  # the answer (a string), the outputs or the value at path (JSON)
    json: bool  # value is a JSON value (outputs, or a path's pick), not the raw answer
    problem: str = ""

    @property
    def text(self) -> str:
        return self.value if isinstance(self.value, str) else compact_json(self.value)


def _subject(assertion: Assertion, turn: TurnResult) -> _Subject:
    prefix = f"turn {assertion.turn} " if assertion.turn is not None else ""
    document: Any
    if is_workflow(turn):
        name, document = f"{prefix}outputs", turn.outputs
    else:
        name, document = f"{prefix}answer", turn.answer
        if assertion.path is not None:
            try:
                document = json.loads(turn.answer)
            except ValueError:
                problem = (
                    f"the {name} is not JSON, so it has no {assertion.path!r}; it starts {clip(turn.answer)}"
                )
                return _Subject(name, turn.answer, False, problem)
    if assertion.path is None:
        return _Subject(name, document, is_workflow(turn))
    value, missing = select(document, assertion.path)
    name = f"{name} {assertion.path}"
    if value is MISSING:
        return _Subject(name, None, True, f"{name}: {missing}")
    return _Subject(name, value, True)


# Each text check: (passed before negation, a function making the reason from the final verdict).
_Reason = Callable[[bool, bool], str]


def _words(passed: bool, negate: bool, does: str, expected: str, subject: _Subject) -> str:
    """``contains 'x'`` when it passed; ``expected to contain 'x'; answer starts '…'`` otherwise."""
    if passed:
        return f"{subject.name} {'does not ' + expected if negate else does}"
    return f"expected {'not ' if negate else ''}to {expected}; {subject.name} {_starts(subject)}"


def _starts(subject: _Subject) -> str:
    if not subject.text:
        return "is empty"
    return f"starts {clip(subject.text)}" if len(subject.text) > _CLIP else f"is {clip(subject.text)}"


def _check_contains(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    value = str(a.value)
    if a.type == "icontains":
        hit = value.casefold() in s.text.casefold()
    elif a.type == "starts-with":
        hit = s.text.startswith(value)
    else:
        hit = value in s.text
    verb = {"icontains": "contain (any case)", "starts-with": "start with"}.get(a.type, "contain")
    does = {"icontains": "contains (any case)", "starts-with": "starts with"}.get(a.type, "contains")

    def reason(passed: bool, negate: bool) -> str:
        if negate and not passed and a.type != "starts-with":
            at = (s.text.casefold() if a.type == "icontains" else s.text).find(
                value.casefold() if a.type == "icontains" else value
            )
            around = s.text[max(0, at - 15) : at + len(value) + 15]
            return f"expected not to {verb} {clip(value)}; {s.name} has it: {clip(around, 60)}"
        return _words(passed, negate, f"{does} {clip(value)}", f"{verb} {clip(value)}", s)

    return hit, reason


def _check_any_all(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    values = [str(v) for v in a.value]
    found = [v for v in values if v in s.text]
    missing = [v for v in values if v not in s.text]
    hit = bool(found) if a.type == "contains-any" else not missing
    listed = ", ".join(clip(v) for v in values)
    which = "one of" if a.type == "contains-any" else "all of"

    def reason(passed: bool, negate: bool) -> str:
        if not passed and not negate and a.type == "contains-all" and found:
            return (
                f"expected to contain all of {listed}; {s.name} lacks {', '.join(clip(v) for v in missing)}"
            )
        if not passed and negate and found:
            hits = ", ".join(clip(v) for v in found)
            return f"expected not to contain {which} {listed}; {s.name} contains {hits}"
        return _words(passed, negate, f"contains {which} {listed}", f"contain {which} {listed}", s)

    return hit, reason


def _check_regex(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    match = re.search(str(a.value), s.text)

    def reason(passed: bool, negate: bool) -> str:
        if match and passed:
            return f"{s.name} matches /{a.value}/ at {clip(match.group(0))}"
        if match:
            return f"expected not to match /{a.value}/; {s.name} has {clip(match.group(0))}"
        return _words(passed, negate, f"matches /{a.value}/", f"match /{a.value}/", s)

    return match is not None, reason


def _check_is_json(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    why = ""
    if not s.json or isinstance(s.value, str):
        try:
            json.loads(s.text)
        except ValueError as exc:
            why = str(exc).split(":")[0]

    def reason(passed: bool, negate: bool) -> str:
        if not why:
            return f"{s.name} is JSON" if passed else f"expected not JSON; {s.name} is JSON"
        return (
            f"{s.name} is not JSON" if passed else f"expected JSON; {s.name} is not ({why}): {clip(s.text)}"
        )

    return not why, reason


def _check_similar(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    threshold = a.threshold if a.threshold is not None else DEFAULT_SIMILAR_THRESHOLD
    ratio = difflib.SequenceMatcher(None, s.text, str(a.value)).ratio()
    hit = ratio >= threshold

    def reason(passed: bool, negate: bool) -> str:
        compare = "≥" if hit else "<"
        head = f"similarity {ratio:.2f} {compare} {threshold:g}"
        return head if passed else f"{head}; {s.name} {_starts(s)}"

    return hit, reason


def _check_equals(a: Assertion, s: _Subject) -> tuple[bool, _Reason]:
    expected = a.value
    actual = s.value
    if not s.json and not isinstance(expected, str):
        # A number or table against a chat answer: compare as JSON values.
        try:
            actual = json.loads(s.text)
        except ValueError:
            return (
                False,
                lambda passed, negate: (
                    f"{s.name} is not JSON, so it cannot equal {compact_json(expected)}; {_starts(s)}"
                    if not negate
                    else f"{s.name} is not JSON, so it does not equal {compact_json(expected)}"
                ),
            )
    hit = json_equal(actual, expected)
    shown = clip(expected) if isinstance(expected, str) else compact_json(expected)

    def reason(passed: bool, negate: bool) -> str:
        if passed:
            return f"{s.name} {'does not equal' if negate else 'equals'} {shown}"
        if negate:
            return f"expected not to equal {shown}; {s.name} does"
        got = clip(actual) if isinstance(actual, str) else clip(compact_json(actual))[1:-1]
        hint = ""
        if isinstance(actual, str) and not isinstance(expected, str) and actual == compact_json(expected):
            hint = f" (text: write value = {compact_json(actual)} to compare text)"
        elif isinstance(expected, str) and not isinstance(actual, str) and compact_json(actual) == expected:
            hint = f" (a {_json_kind(actual)}, not text: write value without quotes)"
        return f"expected {shown}; {s.name} is {got}{hint}"

    return hit, reason


def json_equal(actual: Any, expected: Any) -> bool:
    """JSON equality: ``3 == 3.0``, but ``true`` is no number and ``"3"`` is no ``3``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(
            json_equal(x, y) for x, y in zip(actual, expected, strict=True)
        )
    return type(actual) is type(expected) and bool(actual == expected)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "list" if isinstance(value, list) else "value"


_TEXT_CHECKS: dict[str, Callable[[Assertion, _Subject], tuple[bool, _Reason]]] = {
    "equals": _check_equals,
    "contains": _check_contains,
    "icontains": _check_contains,
    "starts-with": _check_contains,
    "contains-any": _check_any_all,
    "contains-all": _check_any_all,
    "regex": _check_regex,
    "is-json": _check_is_json,
    "similar": _check_similar,
}


# --------------------------------------------------------------------------------------------
# Assertions on the run


def _check_status(a: Assertion, turn: TurnResult, run: RunResult) -> AssertionResult:
    actual = turn.status
    if actual == a.value:
        return _result(a, True, f"status {actual}")
    error = turn.error or run.error
    because = f": {error}" if error and actual != "succeeded" else ""
    return _result(a, False, f"expected status {a.value}; the run {actual}{because}")


def _check_node(a: Assertion, turn: TurnResult, run: RunResult) -> AssertionResult:
    expected = a.status or "succeeded"
    ran = [node for node in turn.nodes if node.title == a.value]
    if not ran:
        titles = ", ".join(clip(node.title, 24) for node in turn.nodes[:8]) or "none"
        return _result(a, False, f"no node titled {clip(str(a.value))} ran (nodes: {titles})")
    if any(node.status == expected for node in ran):
        return _result(a, True, f"node {clip(str(a.value))} {expected}")
    statuses = ", ".join(sorted({node.status for node in ran}))
    return _result(a, False, f"expected node {clip(str(a.value))} to be {expected}; it was {statuses}")


def _upper_bound(
    name: str, measure: Callable[[TurnResult], float | int | None], unit: str
) -> Callable[[Assertion, TurnResult, RunResult], AssertionResult]:
    def check_bound(a: Assertion, turn: TurnResult, run: RunResult) -> AssertionResult:
        value = measure(turn)
        limit = a.threshold if a.threshold is not None else 0.0
        if value is None:
            return _result(a, False, f"no {name} measured for this run")
        shown = f"{value:.2f}{unit}" if unit else f"{value:g}"
        if value <= limit:
            return _result(a, True, f"{name} {shown} ≤ {limit:g}{unit}")
        return _result(a, False, f"{name} {shown} over the limit of {limit:g}{unit}")

    return check_bound


_RUN_CHECKS: dict[str, Callable[[Assertion, TurnResult, RunResult], AssertionResult]] = {
    "status": _check_status,
    "node": _check_node,
    "latency": _upper_bound("latency", lambda turn: turn.latency_s, " s"),
    "first-token": _upper_bound("first token", lambda turn: turn.first_token_s, " s"),
    "tokens": _upper_bound("tokens", lambda turn: turn.tokens, ""),
    "cost": _upper_bound("cost", lambda turn: turn.cost, ""),
}
