"""Run a suite: cases × targets × repeats on ``AsyncDify``, a few at a time, graded and recorded.

No Textual here: the CLI and the console's Tests view drive it and follow it through ``on_progress``.
Cancelling :func:`run_suite` (Ctrl+C) stops every in-flight run on the server and returns the
partial result, marked ``interrupted``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from difytui.bench.model import (
    DEFAULT_CONCURRENCY,
    AssertionResult,
    Case,
    CaseResult,
    RunResult,
    SuiteResult,
    Target,
    TurnResult,
)
from difytui.bench.run_turn import run_turn
from difytui.errors import DifyError

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify
    from difytui.bench.clients import Clients
    from difytui.bench.record import Recorder

T = TypeVar("T")

#: ``grade(case, run, dify)``: the run's assertion results; ``dify`` is the target's client (a
#: judge assertion asks an app of the same workspace).
Grader = Callable[[Case, RunResult, "AsyncDify"], Awaitable[list[AssertionResult]]]


def standard_grader() -> Grader:
    """The bench's grading (:func:`difytui.bench.assertions.grade`); a ``judge`` asks its grader
    app through the target's own client (an app of the same workspace)."""
    from difytui.bench.assertions import Judge, grade
    from difytui.bench.judge import make_judge

    judges: dict[int, Judge] = {}

    async def grader(case: Case, run: RunResult, dify: AsyncDify) -> list[AssertionResult]:
        judge = judges.get(id(dify))
        if judge is None:
            judge = judges[id(dify)] = make_judge(dify)
        return await grade(case, run, judge)

    return grader


@dataclass(frozen=True)
class Progress:
    """A run has started streaming (its task is known) or ended, or a case on one target has ended."""

    kind: Literal["start", "run", "case"]
    result: CaseResult
    run: RunResult | None  # kind "start": the run whose first event came; "run": the run that ended
    done: int  # cases × targets finished so far
    total: int  # cases × targets in the suite


ProgressCallback = Callable[[Progress], None]


def targets_of(cases: Sequence[Case], targets: Sequence[Target]) -> list[tuple[Case, Target]]:
    """Each case on each target given, or (none given) on its own app; in case order."""
    if targets:
        return [(case, target) for case in cases for target in targets]
    return [(case, Target(case.app, case.workspace)) for case in cases]


@dataclass
class _Job:
    result: CaseResult
    index: int  # which repeat


@dataclass
class _Suite:
    result: SuiteResult
    total: int
    pending: dict[int, int] = field(default_factory=dict)  # id(CaseResult) → runs not yet done
    done: int = 0
    failed: bool = False
    recording: set[asyncio.Task[None]] = field(default_factory=set)  # cases being recorded


async def run_suite(
    cases: Sequence[Case],
    clients: Clients,
    grade: Grader,
    *,
    targets: Sequence[Target] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    repeat: int | None = None,
    fail_fast: bool = False,
    on_progress: ProgressCallback | None = None,
    recorder: Recorder | None = None,
) -> SuiteResult:
    """Run every case on its targets; ``repeat`` replaces each case's own. Never raises for a run
    that fails: an API, connection or stream error, or a timeout, makes that run an error."""
    pairs = targets_of(cases, targets)
    suite = SuiteResult(
        suite_id=uuid.uuid4().hex,
        started=time.time(),
        targets=list(dict.fromkeys(target for _, target in pairs)),
        results=[CaseResult(case, target) for case, target in pairs],
    )
    state = _Suite(suite, len(pairs))
    queue: asyncio.Queue[_Job] = asyncio.Queue()
    for result in suite.results:
        count = repeat if repeat is not None else result.case.repeat
        result.runs = [RunResult() for _ in range(count)]
        state.pending[id(result)] = count
        for index in range(count):
            queue.put_nowait(_Job(result, index))
    if recorder is not None:
        await asyncio.to_thread(recorder.begin, suite)
    finished = [r for r in suite.results if not r.runs]  # repeat = 0: nothing to run
    for result in finished:
        _case_done(state, result, on_progress, recorder)
    workers = [
        asyncio.create_task(_worker(queue, clients, grade, state, fail_fast, on_progress, recorder))
        for _ in range(max(1, min(concurrency, queue.qsize() or 1)))
    ]
    try:
        await asyncio.wait(workers)  # unlike gather, leaves the workers alone when cancelled
    except asyncio.CancelledError:
        # Ctrl+C (or the caller giving up): each worker is cancelled once and stops its run on the
        # server. Cancelled again (a second Ctrl+C), the workers are cancelled again, which cuts
        # their stop calls short. Either way the partial result is returned.
        suite.interrupted = True
        while True:
            _uncancel()
            for worker in workers:
                worker.cancel()
            try:
                await asyncio.wait(workers)
                break
            except asyncio.CancelledError:
                continue
    for worker in workers:  # a bug in a worker is not a cancelled suite
        if not worker.cancelled() and worker.exception() is not None:
            raise worker.exception()  # type: ignore[misc]
    while state.recording:  # the last cases' records (they run on after a cancel: they are threads)
        await _through(asyncio.wait(set(state.recording)))
    suite.not_run = [r for r in suite.results if not _finished(state, r)]
    suite.results = [r for r in suite.results if _finished(state, r)]
    if recorder is not None:
        await _through(asyncio.to_thread(recorder.end, suite))
    return suite


async def _through(step: Awaitable[T]) -> T:
    """Await ``step`` to its end however often this task is cancelled meanwhile: a further Ctrl+C
    while the last records are written must not lose the partial result."""
    future = asyncio.ensure_future(step)
    while True:
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            _uncancel()


def _uncancel() -> None:
    """Take back the cancel this task just got (Python 3.11+), so that its next await is not cut."""
    uncancel = getattr(asyncio.current_task(), "uncancel", None)
    if uncancel is not None:
        uncancel()


def _finished(state: _Suite, result: CaseResult) -> bool:
    """Whether every run of ``result`` ended; a partial case is reported as not run."""
    return state.pending.get(id(result), 0) == 0


async def _worker(
    queue: asyncio.Queue[_Job],
    clients: Clients,
    grade: Grader,
    state: _Suite,
    fail_fast: bool,
    on_progress: ProgressCallback | None,
    recorder: Recorder | None,
) -> None:
    while not queue.empty():
        if fail_fast and state.failed:
            return
        job = queue.get_nowait()
        result = job.result
        run = RunResult()
        result.runs[job.index] = run

        def started(run: RunResult = run, result: CaseResult = result) -> None:
            if on_progress is not None:
                on_progress(Progress("start", result, run, state.done, state.total))

        await _run(run, result.case, result.target, clients, grade, started)
        state.pending[id(result)] -= 1
        if on_progress is not None:
            on_progress(Progress("run", result, run, state.done, state.total))
        if state.pending[id(result)] == 0:
            _case_done(state, result, on_progress, recorder)


def _case_done(
    state: _Suite, result: CaseResult, on_progress: ProgressCallback | None, recorder: Recorder | None
) -> None:
    state.done += 1
    if result.verdict != "pass":
        state.failed = True
    if recorder is None:
        _announce(state, result, on_progress)
        return
    # SQLite commits wait for the disk: in a thread, and without holding up the worker's next run.
    task = asyncio.create_task(_record(state, result, on_progress, recorder))
    state.recording.add(task)
    task.add_done_callback(state.recording.discard)


async def _record(
    state: _Suite, result: CaseResult, on_progress: ProgressCallback | None, recorder: Recorder
) -> None:
    await asyncio.to_thread(recorder.record, state.result, result)  # sets result.changed
    _announce(state, result, on_progress)


def _announce(state: _Suite, result: CaseResult, on_progress: ProgressCallback | None) -> None:
    if on_progress is not None:
        on_progress(Progress("case", result, None, state.done, state.total))


async def _run(
    run: RunResult,
    case: Case,
    target: Target,
    clients: Clients,
    grade: Grader,
    on_start: Callable[[], None],
) -> None:
    """One repeat into ``run``: every turn in one conversation, then graded (if it completed)."""
    try:
        endpoint = await clients.endpoint(target)
    except DifyError as error:
        run.error = str(error)
        return
    conversation_id: str | None = None
    queries: Sequence[str | None] = case.turns or (None,)
    for query in queries:
        turn = TurnResult(query=query)
        run.turns.append(turn)
        run.error = await run_turn(endpoint, case, turn, conversation_id, on_start)
        if run.error is not None:
            return
        conversation_id = turn.conversation_id
    run.assertions = await grade(case, run, endpoint.dify)
