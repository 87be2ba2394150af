"""Fold a run's event stream into the dict a blocking Service API call would have returned.

Blocking calls always stream under the hood (so there is a task id to stop on Ctrl+C, a timeout or a
deadline) and fold the events here. The result has the keys, in the order, of Dify 1.14.2's blocking
bodies (captures/service-api, captures/human-input-history): callers cannot tell the difference. The
account API only streams; its fold keeps the run's whole ``workflow_finished`` data (as difyctl does).
"""

from __future__ import annotations

from typing import Any

from difytui._http import task_id_of
from difytui.errors import DifyAPIError, DifyError, DifyProtocolError
from difytui.models import UNKNOWN_STATUS, run_status

_FIRST_KEYS = ("task_id", "conversation_id", "message_id", "created_at", "workflow_run_id")
#: ``data`` of a blocking workflow body (WorkflowAppBlockingResponse); the stream's
#: ``workflow_finished`` also carries created_by, exceptions_count and files.
_WORKFLOW_DATA_KEYS = (
    "id", "workflow_id", "status", "outputs", "error",
    "elapsed_time", "total_tokens", "total_steps", "created_at", "finished_at",
)  # fmt: skip
_PAUSE_KEYS = ("paused_nodes", "reasons")
#: What a paused chatflow's blocking body says for metadata (no message_end was sent).
_PAUSED_METADATA: dict[str, Any] = {"annotation_reply": None, "retriever_resources": [], "usage": None}


class Folded(dict[str, Any]):
    """A blocking body folded from the run's stream: Dify's keys only. ``reconnects``: how many times
    the stream was re-attached to its run after a drop (not a key: the body stays Dify's)."""

    reconnects = 0


class Folder:
    """Collects a run's events; ``result()`` gives the blocking body (or raises what it would have)."""

    def __init__(self, mode: str, *, url: str = "", exact: bool = True) -> None:
        self.mode = mode
        self.url = url
        #: Service API: only a blocking body's keys; account API: the stream's data as sent.
        self.exact = exact
        #: the first task id the stream named: what a stop call needs
        self.task_id: str | None = None
        self.first: dict[str, Any] = {}
        self.answer: list[str] = []
        self.metadata: object = None  # message_end's metadata, as Dify sent it
        self.started: dict[str, Any] = {}
        self.finished: dict[str, Any] | None = None
        self.paused: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.reconnects = 0

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if not isinstance(kind, str):
            return
        if self.task_id is None:
            self.task_id = task_id_of(event)
        for key in _FIRST_KEYS:
            if key in event and key not in self.first:
                self.first[key] = event[key]
        if kind in ("message", "agent_message"):
            self.answer.append(self._text(event))
        elif kind == "message_replace":
            self.answer = [self._text(event)]
        elif kind == "message_end":
            self.metadata = event.get("metadata")
        elif kind == "workflow_started":
            self.started = _data(event)
        elif kind == "workflow_finished":
            self.finished = event
        elif kind == "workflow_paused":
            self.paused = event
        elif kind == "error":
            self.error = event

    def reattached(self, reconnects: int, answer: str | None) -> None:
        """What re-attaching the stream gave (``stream.reconnects``, ``stream.reconciled_answer``): a
        count the result carries, and the run's whole answer when text was lost meanwhile."""
        self.reconnects = reconnects
        if answer is not None:
            self.answer = [answer]

    def _text(self, event: dict[str, Any]) -> str:
        answer = event.get("answer")
        if answer is None:
            return ""
        if not isinstance(answer, str):
            raise DifyProtocolError(f"a {event['event']} event from {self.url} has an answer that isn't text")
        return answer

    def result(self) -> Folded:
        folded = Folded(self._body())
        folded.reconnects = self.reconnects
        return folded

    def _body(self) -> dict[str, Any]:
        if self.error is not None:
            raise error_from_event(self.error, self.url)
        if self.finished is not None and run_status(self.finished.get("data")) == UNKNOWN_STATUS:
            # Not a success nobody can read: the caller would take ``{"data": {}}`` for one.
            raise DifyProtocolError(
                f"the run's end could not be read: {self.url} sent a workflow_finished without a status"
            )
        if self.mode == "workflow":
            return self._workflow()
        return self._message()

    # -- workflow: {task_id, workflow_run_id, data} ---------------------------------------------

    def _workflow(self) -> dict[str, Any]:
        last = self.paused or self.finished or {}
        if self.paused is not None:
            data = self._paused_run(_data(self.paused))
        elif self.exact:
            data = _only(_data(last), _WORKFLOW_DATA_KEYS)
        else:
            data = _data(last)
        return {
            "task_id": last.get("task_id", self.first.get("task_id")),
            "workflow_run_id": last.get("workflow_run_id", self.first.get("workflow_run_id")),
            "data": data,
        }

    def _paused_run(self, paused: dict[str, Any]) -> dict[str, Any]:
        """A paused workflow's blocking ``data``: the run summary with finished_at null, then the forms."""
        data: dict[str, Any] = {
            "id": paused.get("workflow_run_id", self.first.get("workflow_run_id")),
            "workflow_id": self.started.get("workflow_id"),
            "status": paused.get("status", "paused"),
            "outputs": paused.get("outputs", {}),
            "error": None,
        }
        for key in ("elapsed_time", "total_tokens", "total_steps", "created_at"):
            data[key] = paused.get(key)
        data["finished_at"] = None
        data.update(_only(paused, _PAUSE_KEYS))
        return data

    # -- chat, agent, chatflow, completion: the message -----------------------------------------

    def _message(self) -> dict[str, Any]:
        finished = _data(self.finished) if self.finished is not None else {}
        if self.mode == "advanced-chat" and self.metadata is None and self.paused is None:
            status = finished.get("status")
            if status in ("failed", "stopped"):
                # Dify's blocking chatflow answers a run that ends without message_end with a 400.
                reason = finished.get("error") or status
                message = f"Run failed: {reason}" if status == "failed" else f"the run was stopped: {reason}"
                raise DifyAPIError(400, "invalid_param", message, url=self.url)
        message_id = self.first.get("message_id")
        answer = "".join(self.answer)
        result: dict[str, Any] = {
            "event": "workflow_paused" if self.paused is not None else "message",
            "task_id": self.first.get("task_id"),
            "id": message_id,
            "message_id": message_id,
        }
        if self.mode != "completion":
            result["conversation_id"] = self.first.get("conversation_id")
        metadata = self.metadata if self.metadata is not None else {}
        if self.paused is not None:
            metadata = dict(_PAUSED_METADATA)
        created_at = self.first.get("created_at")
        result.update(mode=self.mode, answer=answer, metadata=metadata, created_at=created_at)
        if self.paused is not None:
            paused = _data(self.paused)
            run_id = self.paused.get("workflow_run_id", self.first.get("workflow_run_id"))
            result["workflow_run_id"] = run_id
            result["data"] = {
                "id": message_id,
                "mode": self.mode,
                "conversation_id": self.first.get("conversation_id"),
                "message_id": message_id,
                "workflow_run_id": run_id,
                "answer": answer,
                "metadata": metadata,
                "created_at": created_at,
                **_only(paused, _PAUSE_KEYS),
                "status": paused.get("status", "paused"),
                **_only(paused, ("elapsed_time", "total_tokens", "total_steps")),
            }
        return result


def error_from_event(event: dict[str, Any], url: str = "") -> DifyError:
    """The error a blocking call gets for what a stream reported as an ``error`` event.

    An error raised before Dify's pipeline starts (input validation, an empty query…) streams as
    ``{"event": "error", "message", "status": 500}`` with no ``code`` and no ``task_id``; in blocking
    mode the same problem is HTTP 400 ``invalid_param``, so that is what the fold reports.
    """
    message = event.get("message")
    message = message if isinstance(message, str) and message else "the run failed (no details)"
    code = event.get("code")
    if not code and "task_id" not in event:
        return DifyAPIError(400, "invalid_param", message, url=url)
    status = event.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        status = 500
    return DifyAPIError(status, code if isinstance(code, str) else "", message, url=url)


def _data(event: dict[str, Any] | None) -> dict[str, Any]:
    data = event.get("data") if event is not None else None
    return data if isinstance(data, dict) else {}


def _only(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}
