"""The Tests view's worker body: runs cases through the bench's runner (the library's
:func:`~difytui.bench.runner.run_suite`, on the console's own client) and posts what happens.

Like :mod:`difytui.tui.runner` it never touches a widget; the view shows what the messages say.
Cancelling the worker (Escape) makes the runner stop every in-flight run on the server and return
the partial suite, which is posted like a finished one (marked ``interrupted``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from difytui.bench.model import Case, SuiteResult, Target
from difytui.bench.runner import Progress
from difytui.tui.messages import WorkerMessage

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify
    from difytui.store import Store

Post = Callable[[Message], object]


@dataclass
class CaseProgress(WorkerMessage):
    """A run of a case started or ended, or the case ended (``progress.kind``)."""

    progress: Progress


@dataclass
class SuiteDone(WorkerMessage):
    """The suite ended (or was stopped: ``suite.interrupted``); its cases are recorded."""

    suite: SuiteResult


@dataclass
class SuiteFailed(WorkerMessage):
    """The suite could not run at all (a bug, the state file): the readable reason."""

    text: str


async def run_cases(
    client: AsyncDify,
    store: Store,
    workspace: str,
    cases: Sequence[Case],
    post: Post,
    targets: Sequence[Target] = (),
) -> None:
    """Run ``cases``, each on its own app (the open one) or on each of ``targets`` (a comparison),
    recording them like ``difytui test`` does (so "last result" and "changed since the previous
    run" are shared with the CLI)."""
    from difytui.bench.clients import Clients
    from difytui.bench.record import Recorder
    from difytui.bench.runner import run_suite, standard_grader
    from difytui.tui.runner import describe_error

    # Every case runs on the open app of the console's workspace (a judge asks a grader of that
    # workspace too): one client, the console's, which the console closes itself.
    clients = Clients(lambda _workspace: client)
    try:
        suite = await run_suite(
            cases,
            clients,
            standard_grader(),
            targets=targets,
            on_progress=lambda progress: post(CaseProgress(progress)),
            recorder=Recorder(store, default_workspace=workspace),  # the CLI's identity of a target
        )
    except Exception as error:  # a bug must not take the console down (see tui.runner)
        post(SuiteFailed(describe_error(error)[0]))
        return
    post(SuiteDone(suite))
