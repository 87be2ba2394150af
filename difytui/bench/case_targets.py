"""Checks of a case once its target app's interface is known: a query only for chat apps, and a
completion or workflow grader given inputs. Nothing runs when one fails (``difytui test`` exits 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .case_values import CaseFileError, Problem
from .model import Assertion, Case, Target

__all__ = ["check_target", "grader_needs_inputs", "graders"]

_CHAT = "chat"


def check_target(
    case: Case, target: Target, interface: str, *, graders: Mapping[str, str] | None = None
) -> None:
    """Raise :class:`CaseFileError` when ``case`` cannot run on ``target``, whose app has ``interface``
    (``"chat"``, ``"workflow"`` or ``"completion"``): a query for a workflow or completion app, none
    for a chat app. ``graders`` (grader app → interface, when known) checks the judges too: a
    completion or workflow grader needs ``inputs``."""
    problems: list[Problem] = []
    if interface == _CHAT and not case.turns:
        message = f"case {case.name!r}: {target.label} is a chat app: give query or turns"
        problems.append(Problem(case.where.file, case.where.line, message))
    elif interface != _CHAT and case.turns:
        key = "turns" if "turns" in case.key_lines else "query"
        where = case.key_lines.get(key, case.where)
        problems.append(
            Problem(
                where.file,
                where.line,
                f"case {case.name!r}: {target.label} is a {interface} app, which takes no {key}: "
                "give its inputs only",
            )
        )
    for assertion in case.assertions:
        grader = graders.get(assertion.app) if graders and assertion.app else None
        if assertion.type == "judge" and grader and grader != _CHAT and assertion.inputs is None:
            message = grader_needs_inputs(assertion, grader)
            problems.append(Problem(assertion.where.file, assertion.where.line, message))
    if problems:
        raise CaseFileError(problems)


def grader_needs_inputs(assertion: Assertion, interface: str) -> str:
    return (
        f"judge app {assertion.app!r} is a {interface} app: give the assertion inputs "
        "(with {answer} where the answer goes)"
    )


def graders(cases: Sequence[Case]) -> set[str]:
    """The grader apps the cases' judge assertions name (to look up their interfaces)."""
    return {a.app for case in cases for a in case.assertions if a.type == "judge" and a.app}
