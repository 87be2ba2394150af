"""A pane's run lifecycle, without widgets: the active run, stops waiting for a task id, exit.

The rules, in one place:

- one run at a time per pane; messages of any other run are late and ignored;
- Escape (``stop``) closes the stream and asks Dify to stop the task. Before Dify has named the
  task there is nothing to stop yet: the stream stays open, unseen, and the stop request goes out
  as soon as the id arrives (``ids``);
- a run that ends by itself has nothing left to stop;
- leaving the console (``stop_all``) stops what Escape would; runs still unnamed keep reading
  as after Escape, so that their stop goes out once Dify names them (``named`` waits for that,
  ``abandon`` gives up on them).

The pane starts the workers and shows what happens; the controller only decides. It is given two
effects: ``send_stop(task_id)`` (the pane starts a stop request) and ``streaming(on)`` (told once
when a run starts streaming and once when it stops, however it ends).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from difytui.tui.models import RunRequest

if TYPE_CHECKING:  # what the pane mounts for a run; this module never loads Textual itself
    from difytui.tui.widgets.agent_steps import AgentSteps
    from difytui.tui.widgets.response_log import AnswerView
    from difytui.tui.widgets.timeline import NodeTimeline

#: Escape before the request was sent (while the pane was mounting the run's widgets).
NOT_SENT = "Stopped before the request was sent. Press ctrl+r to run again."
#: Escape before Dify's first event: the stop goes out when the task id arrives.
STOPPING = "Stopping as soon as Dify names the task… Press ctrl+r to run again."
#: Escape after the request ended without naming its task: the stop endpoint cannot be called.
ABANDONED = (
    "Stopped. The request was abandoned before Dify named its task; Dify may still finish it. "
    "Press ctrl+r to run again."
)


def stopped_note(task_id: str) -> str:
    return f"Stopped. Asked Dify to stop task {task_id}. Press ctrl+r to run again."


class RunWorker(Protocol):
    """The part of Textual's ``Worker`` the controller uses."""

    @property
    def is_finished(self) -> bool: ...

    def cancel(self) -> None: ...


def _now() -> float:
    return time.monotonic()


@dataclass
class ActiveRun:
    """One run of a pane: its request, its worker, the ids Dify gave it, what the pane mounted."""

    run_id: int
    request: RunRequest
    worker: RunWorker | None = None
    started_at: float = field(default_factory=_now)
    first_event_at: float | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    ids_seen: bool = False
    #: times the library re-attached the stream to its run after a drop (the stats line says so)
    reconnects: int = 0
    # The pane's widgets for this run (set and used by the pane only).
    answer: AnswerView | None = None
    timeline: NodeTimeline | None = None
    thought_view: AgentSteps | None = None


@dataclass(frozen=True)
class Ids:
    """What a ``RunIds`` message meant."""

    #: the active run the ids belong to (None: a late message, or a stopped run's)
    run: ActiveRun | None = None
    #: the run's first conversation id (a chat pane remembers it)
    first_conversation: str | None = None
    #: a run stopped before its task was named: its stop request was just sent for this task
    stop_sent: str | None = None


@dataclass(frozen=True)
class Stopped:
    """Escape stopped ``run``; ``note`` says what happened to it on Dify's side."""

    run: ActiveRun
    note: str


def _nothing(_on: bool) -> None:
    pass


class RunController:
    def __init__(
        self,
        send_stop: Callable[[str], object],
        streaming: Callable[[bool], object] = _nothing,
    ) -> None:
        self._send_stop = send_stop
        self._streaming = streaming
        self.active: ActiveRun | None = None
        self.last_request: RunRequest | None = None
        self._seq = 0
        #: runs stopped before their task id arrived, stopped as soon as it does (run_id → run)
        self.pending_stops: dict[int, ActiveRun] = {}
        #: set whenever a run leaves ``pending_stops`` (``named`` waits on it)
        self._pending_left = asyncio.Event()

    @staticmethod
    def now() -> float:
        return _now()

    @property
    def running(self) -> bool:
        return self.active is not None

    def begin(self, request: RunRequest) -> ActiveRun | None:
        """A new active run for ``request``; None while another one runs."""
        if self.active is not None:
            return None
        self._seq += 1
        run = ActiveRun(self._seq, request)
        self.active = run
        self.last_request = request
        self._streaming(True)
        return run

    def is_active(self, run: ActiveRun) -> bool:
        """False once ``run`` was stopped (e.g. by Escape while the pane was setting it up)."""
        return self.active is run

    def current(self, run_id: int) -> ActiveRun | None:
        """The active run if ``run_id`` is its id; None for a message of a run that is over."""
        run = self.active
        return run if run is not None and run.run_id == run_id else None

    def event(self, run_id: int, received_at: float) -> ActiveRun | None:
        """An event of run ``run_id`` arrived: ``current``, noting when the first one came."""
        run = self.current(run_id)
        if run is not None and run.first_event_at is None:
            run.first_event_at = received_at
        return run

    def ids(self, run_id: int, task_id: str | None, conversation_id: str | None) -> Ids:
        """Dify named the run's task or conversation (or changed them)."""
        run = self.current(run_id)
        if run is None:
            pending = self.pending_stops.get(run_id)
            if pending is None or not task_id:
                return Ids()
            self._unpend(run_id)
            pending.task_id = task_id
            self._stop(pending)
            return Ids(stop_sent=task_id)
        run.task_id = task_id or run.task_id
        first = None
        if conversation_id and conversation_id != run.conversation_id:
            if not run.ids_seen or run.conversation_id is None:
                first = conversation_id
            run.conversation_id = conversation_id
        run.ids_seen = True
        return Ids(run, first_conversation=first)

    def end(self, run_id: int) -> tuple[ActiveRun | None, bool]:
        """Run ``run_id``'s stream ended (it finished or failed).

        Returns the run if it was the active one (it no longer is), and whether it was a stopped
        run still waiting for its task id (nothing is left to stop: it ended by itself).
        """
        run = self.current(run_id)
        if run is None:
            return None, self._unpend(run_id) is not None
        self._release()
        return run, False

    def worker_failed(self, worker: RunWorker) -> ActiveRun | None:
        """A worker raised: the active run if it was that run's (it no longer is active)."""
        run = self.active
        if run is not None and run.worker is worker:
            self._release()
            return run
        for run_id, pending in list(self.pending_stops.items()):
            if pending.worker is worker:
                self._unpend(run_id)
        return None

    def stop(self) -> Stopped | None:
        """Escape: close the active run's stream, ask Dify to stop its task. None when idle."""
        run = self.active
        if run is None:
            return None
        self._release()
        if run.worker is None:  # the pane was still setting it up: it will not send it
            return Stopped(run, NOT_SENT)
        if run.task_id:
            self._stop(run)
            return Stopped(run, stopped_note(run.task_id))
        if not run.worker.is_finished:
            # Dify names the task in its first event: keep reading (its text is no longer shown)
            # and stop the task as soon as the id arrives (``ids``).
            self.pending_stops[run.run_id] = run
            return Stopped(run, STOPPING)
        return Stopped(run, ABANDONED)

    def stop_all(self) -> list[str]:
        """The console is closing: close the streams of named runs; their task ids, which Dify must
        be asked to stop. The active run, if still unnamed, is stopped as Escape would: it keeps
        reading until Dify names it (``pending_stops``; see ``named`` and ``abandon``)."""
        run = self.active
        if run is None:
            return []
        self._release()
        if run.task_id is None and run.worker is not None and not run.worker.is_finished:
            self.pending_stops[run.run_id] = run
            return []
        if run.worker is not None:
            run.worker.cancel()
        return [run.task_id] if run.task_id else []

    async def named(self) -> None:
        """Until no stopped run waits for its task id: each was named (and its stop sent) or ended."""
        while self.pending_stops:
            self._pending_left.clear()
            await self._pending_left.wait()

    def abandon(self) -> None:
        """Give up on the runs still waiting for their task id: close their streams."""
        for run_id, run in list(self.pending_stops.items()):
            self._unpend(run_id)
            if run.worker is not None:
                run.worker.cancel()

    def _unpend(self, run_id: int) -> ActiveRun | None:
        run = self.pending_stops.pop(run_id, None)
        self._pending_left.set()
        return run

    def _release(self) -> None:
        self.active = None
        self._streaming(False)

    def _stop(self, run: ActiveRun) -> None:
        if run.worker is not None:
            run.worker.cancel()
        if run.task_id:
            self._send_stop(run.task_id)
