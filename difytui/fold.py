"""Fold a run's event stream into the dict a blocking Service API call would have returned.

The account API only streams; ``response_mode="blocking"`` on such a workspace reads the stream and
folds it here, so callers get the same shape on every kind of workspace (as difyctl does).
"""

from __future__ import annotations

from typing import Any

from difytui.errors import DifyAPIError

_ANSWER_EVENTS = ("message", "agent_message")


class Folder:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.first: dict[str, Any] = {}
        self.answer: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.finished: dict[str, Any] | None = None

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "error":
            raise DifyAPIError(
                int(event.get("status") or 500), str(event.get("code") or ""), str(event.get("message"))
            )
        for key in ("task_id", "conversation_id", "message_id", "created_at", "workflow_run_id"):
            if key in event and key not in self.first:
                self.first[key] = event[key]
        if kind in _ANSWER_EVENTS:
            self.answer.append(str(event.get("answer") or ""))
        elif kind == "message_replace":
            self.answer = [str(event.get("answer") or "")]
        elif kind == "message_end":
            self.metadata = event.get("metadata") or {}
        elif kind in ("workflow_finished", "workflow_paused"):
            self.finished = event

    def result(self) -> dict[str, Any]:
        if self.mode == "workflow":
            finished = self.finished or {}
            return {
                "task_id": finished.get("task_id", self.first.get("task_id")),
                "workflow_run_id": finished.get("workflow_run_id", self.first.get("workflow_run_id")),
                "data": finished.get("data", {}),
            }
        message_id = self.first.get("message_id")
        result: dict[str, Any] = {
            "event": "message",
            "task_id": self.first.get("task_id"),
            "id": message_id,
            "message_id": message_id,
        }
        if self.mode != "completion":
            result["conversation_id"] = self.first.get("conversation_id")
        result.update(
            mode=self.mode,
            answer="".join(self.answer),
            metadata=self.metadata,
            created_at=self.first.get("created_at"),
        )
        return result
