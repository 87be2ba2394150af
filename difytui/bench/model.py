"""The bench's data: cases as loaded from case files, and what running them produced.

Shared by the loader, the graders, the runner, the reports, the CLI and the console's Tests view,
so each of them can be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

#: How a case, a target or a run ended: every expectation held, one did not, or the run could not
#: be completed (an HTTP or connection error, a streamed ``error`` event, a timeout).
Verdict = Literal["pass", "fail", "error"]

#: Final run statuses a ``status`` assertion may name.
RUN_STATUSES = ("succeeded", "failed", "stopped", "partial-succeeded")

#: Text assertions: each may be negated with a ``not-`` prefix (``not-contains``).
TEXT_TYPES = (
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "starts-with",
    "regex",
    "is-json",
    "similar",
)
#: Assertions on the run itself; ``latency``, ``first-token``, ``tokens`` and ``cost`` take a
#: ``threshold`` that is an upper bound.
RUN_TYPES = ("status", "node", "latency", "first-token", "tokens", "cost", "judge")
ASSERTION_TYPES = TEXT_TYPES + RUN_TYPES

DEFAULT_REPEAT = 1
#: The most runs of one case: a suite builds its runs up front, so a typo must not exhaust memory.
MAX_REPEAT = 1000
DEFAULT_PASS_RATE = 1.0
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_CONCURRENCY = 4
DEFAULT_SIMILAR_THRESHOLD = 0.8
DEFAULT_JUDGE_PASS = r"^\s*(PASS|YES|TRUE)\b"


@dataclass(frozen=True)
class Where:
    """The file and line a case, an assertion or a key came from (for error messages)."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Assertion:
    """One ``[[case.assert]]`` table."""

    type: str  # the base type, without ``not-`` (one of ASSERTION_TYPES)
    where: Where
    negate: bool = False
    value: Any = None  # str, list of str, number or table, as the type wants
    threshold: float | None = None  # similar: lower bound; latency/first-token/tokens/cost: upper bound
    path: str | None = None  # "a.b": a value inside the outputs (or the answer parsed as JSON)
    turn: int | None = None  # 1-based turn of a multi-turn case; None: the last
    status: str | None = None  # node: the node's expected status (default "succeeded")
    # judge: an app of the same workspace grades the answer
    app: str | None = None
    inputs: dict[str, Any] | None = None
    query: str | None = None
    pass_pattern: str | None = None  # the ``pass`` key (a regex, case-insensitive)

    @property
    def label(self) -> str:
        """The type as written in the file (``not-contains``)."""
        return f"not-{self.type}" if self.negate else self.type


@dataclass(frozen=True)
class Case:
    """One ``[[case]]`` table, with ``[defaults]`` merged in."""

    name: str
    file: Path  # the case file (absolute)
    rel: str  # the file relative to the folder it was found under: part of the case's identity
    where: Where  # the ``[[case]]`` header's line
    app: str
    workspace: str | None = None  # None: the config's default workspace
    inputs: dict[str, Any] = field(default_factory=dict)
    turns: tuple[str, ...] = ()  # chat apps: the queries, in one conversation; () for the others
    files: tuple[str, ...] = ()  # absolute paths or URLs
    repeat: int = DEFAULT_REPEAT
    pass_rate: float = DEFAULT_PASS_RATE
    timeout_s: float = DEFAULT_TIMEOUT_S  # per turn
    assertions: tuple[Assertion, ...] = ()
    #: where each key was written (``query``, ``turns``, ``app``…): errors found only once the
    #: app's interface is known (``query`` on a workflow app) still name the line
    key_lines: dict[str, Where] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """The case's identity within a suite, without the target."""
        return f"{self.rel}::{self.name}"


@dataclass(frozen=True)
class Target:
    """Where a case runs: an app, in a workspace (None: the default one)."""

    app: str
    workspace: str | None = None

    @property
    def label(self) -> str:
        return f"{self.workspace}:{self.app}" if self.workspace else self.app


@dataclass
class NodeRun:
    """A workflow node as its ``node_finished`` event reported it."""

    title: str
    status: str
    price: float | None = None


@dataclass
class TurnResult:
    """One request and its stream: a chat turn, or the single run of a workflow or completion app."""

    query: str | None = None
    answer: str = ""  # chat and completion: the streamed answer
    outputs: dict[str, Any] | None = None  # workflows: workflow_finished.data.outputs
    status: str = "unknown"  # one of RUN_STATUSES, or "unknown"
    error: str | None = None  # the run's own error message (a failed workflow, a streamed error)
    latency_s: float | None = None  # request sent → terminal event (client clock)
    first_token_s: float | None = None  # request sent → first answer or text event
    tokens: int | None = None
    cost: float | None = None
    nodes: list[NodeRun] = field(default_factory=list)
    conversation_id: str | None = None
    message_id: str | None = None
    task_id: str | None = None
    workflow_run_id: str | None = None


@dataclass
class AssertionResult:
    assertion: Assertion
    passed: bool
    reason: str  # why it passed or failed, for people (the judge's answer for a judge)


@dataclass
class RunResult:
    """One repeat of one case on one target."""

    turns: list[TurnResult] = field(default_factory=list)
    #: set when the run could not be completed: Dify's code and message, a connection error,
    #: a streamed error event or "timed out after N s"; the run is then an error
    error: str | None = None
    assertions: list[AssertionResult] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return "error"
        return "pass" if all(a.passed for a in self.assertions) else "fail"

    @property
    def last(self) -> TurnResult | None:
        return self.turns[-1] if self.turns else None


@dataclass
class CaseResult:
    """A case on one target: its runs (repeats) and the verdict they add up to."""

    case: Case
    target: Target
    runs: list[RunResult] = field(default_factory=list)
    #: the last recorded answer (or outputs JSON) of the same case and target, when it differs
    #: from this one's, as a unified diff; None when unchanged or never run before
    changed: str | None = None

    @property
    def passed_runs(self) -> int:
        return sum(1 for run in self.runs if run.verdict == "pass")

    @property
    def verdict(self) -> Verdict:
        return repeats_verdict([run.verdict for run in self.runs], self.case.pass_rate)


def repeats_verdict(verdicts: Sequence[Verdict], pass_rate: float) -> Verdict:
    """A case's verdict from its runs': pass when enough passed, else error if any errored."""
    passed = sum(1 for verdict in verdicts if verdict == "pass")
    if verdicts and passed / len(verdicts) >= pass_rate:
        return "pass"
    return "error" if "error" in verdicts else "fail"


@dataclass
class SuiteResult:
    """A whole ``difytui test`` run."""

    suite_id: str
    started: float  # epoch seconds
    targets: list[Target]
    results: list[CaseResult] = field(default_factory=list)
    interrupted: bool = False  # Ctrl+C: the reports are partial
    #: cases × targets that did not finish (Ctrl+C, --fail-fast): not in ``results``, whose
    #: verdicts they would skew; the reports list them as not run
    not_run: list[CaseResult] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for result in self.results if result.verdict == verdict)
