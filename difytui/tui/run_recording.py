"""Recording the console's runs (issue 11): the runner fills a :class:`RunLog` as events arrive and
hands it over however the run ends; :class:`RunRecorder` stores it on the state writer's thread.

The summary (:func:`difytui.run_records.record_run`: JSON, zlib, SQLite) is built on that thread
too, never on the UI thread. Light at import: the console's shell imports this before the first
frame; the records module (and sqlite3) load with the first record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from difytui.config import RecordsBudget
    from difytui.run_records import Budget, RunRecords
    from difytui.store import Store
    from difytui.tui.models import RunRequest
    from difytui.tui.store_writer import StoreWriter


@dataclass
class RunLog:
    """One run as the runner saw it: its request, every event in order, and how it ended when the
    stream did not say (``status``: "stopped" or "failed", with ``error``)."""

    request: RunRequest
    started: float
    finished: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None
    error: str | None = None

    @classmethod
    def start(cls, request: RunRequest) -> RunLog:
        return cls(request, started=time.time())  # wall clock: when it ran, for the Runs view

    def finish(self) -> None:
        self.finished = time.time()

    def failed(self, error: str) -> None:
        self.status = "failed"
        self.error = self.error or error


#: what the runner calls with a finished run's log
Record = Callable[[RunLog], object]


class RunRecorder:
    """Stores each finished run of the console in ``store``'s run records, within ``budget`` (else
    the one ``settings``, a config's ``[records]``, set: worked out with the first record, as
    difytui.run_records is not imported before the first frame)."""

    def __init__(
        self,
        writer: StoreWriter,
        ws: str,
        budget: Budget | None = None,
        *,
        settings: RecordsBudget | None = None,
    ) -> None:
        self.writer = writer
        self.ws = ws
        self.budget = budget
        self.settings = settings
        self._records: RunRecords | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self.writer.store

    def records(self) -> RunRecords:
        """The store's run records (made once, cheaply: nothing is written until a record is)."""
        with self._lock:
            if self._records is None:
                from difytui.run_records import Budget, RunRecords

                budget = self.budget if self.budget is not None else Budget.of(self.settings)
                self._records = RunRecords(self.store, budget)
            return self._records

    def __call__(self, log: RunLog) -> None:
        self.writer.call(self._write, log)

    def resumed(self, app_id: str, workflow_run_id: str, log: RunLog) -> None:
        """A paused run went on: its record takes what followed the pause (``log``'s events)."""
        self.writer.call(self._write_resumed, app_id, workflow_run_id, log)

    def _write_resumed(self, app_id: str, workflow_run_id: str, log: RunLog) -> None:
        from difytui.run_records import continue_run

        continue_run(
            self.records(),
            self.ws,
            app_id,
            workflow_run_id,
            log.events,
            finished=log.finished,
            status=log.status,
            error=log.error,
        )

    def _write(self, log: RunLog) -> None:
        from difytui.run_records import record_run

        request = log.request
        record_run(
            self.records(),
            self.ws,
            request.app_id,
            request.interface,
            request.inputs,
            log.events,
            query=request.query if request.interface == "chat" else None,
            started=log.started,
            finished=log.finished,
            status=log.status,
            error=log.error,
        )
