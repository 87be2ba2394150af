"""``difytui invoke``'s run record (issue 11): the run's events as printed, or its blocking result,
stored in the state database's run records once the run is over, however it ended."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from difytui.sync_client import Dify

log = logging.getLogger(__name__)

JSON = dict[str, Any]


@dataclass
class RunRecording:
    """One CLI run being recorded: ``events`` as they arrive; ``status``/``error`` when the stream
    did not say how it ended (Ctrl+C, a failure on our side)."""

    dify: Dify
    app_id: str
    interface: str
    inputs: dict[str, Any]
    query: str | None = None
    events: list[JSON] = field(default_factory=list)
    status: str | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    saved: bool = False

    def save(self) -> None:
        """Store the record (once); no problem of the record's ever fails the command: one line on
        stderr says it was not recorded."""
        if self.saved:
            return
        self.saved = True
        try:
            self._store()
        except Exception as error:  # the run's own output is what matters; it is already printed
            log.debug("run record not saved", exc_info=True)
            from difytui.cliutil import say

            say(f"difytui: this run was not recorded in the state database ({type(error).__name__})")

    def _store(self) -> None:
        from difytui.run_records import Budget, RunRecords, record_run
        from difytui.store import Store, workspace_key

        workspace = self.dify.workspace
        with Store() as store:
            records = RunRecords(store, Budget.of(workspace.records))
            record_run(
                records,
                workspace_key(workspace),
                self.app_id,
                self.interface,
                self.inputs,
                self.events,
                query=self.query,
                started=self.started,
                finished=time.time(),
                status=self.status,
                error=self.error,
            )


def blocking_events(result: JSON) -> list[JSON]:
    """The events a blocking run's folded result stands for (the stream it was folded from is gone):
    a workflow's ``workflow_finished``, else the answer's ``message`` and ``message_end``."""
    ids: JSON = {k: result[k] for k in ("task_id", "workflow_run_id", "conversation_id") if k in result}
    message_id = result.get("message_id") or result.get("id")
    if message_id:
        ids["message_id"] = message_id
    data = result.get("data")
    if isinstance(data, dict) and "answer" not in result:
        return [{"event": "workflow_finished", **ids, "data": data}]
    answer = result.get("answer")
    return [
        {"event": "message", **ids, "answer": answer if isinstance(answer, str) else ""},
        {"event": "message_end", **ids, "metadata": result.get("metadata") or {}},
    ]
