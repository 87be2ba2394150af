"""In-memory state of the simulated workspace: ids, end users, conversations, messages, uploads, runs.

Only the server's event-loop thread touches it, so it needs no locking.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

_NS = uuid.UUID("0b6a9c1e-5f3d-4e2a-8c7b-646966797369")


class Ids:
    """Deterministic UUIDs: uuid5 over a per-simulator counter (same request order → same ids)."""

    def __init__(self) -> None:
        self._n = 0

    def new(self, kind: str) -> str:
        self._n += 1
        return str(uuid.uuid5(_NS, f"{kind}:{self._n}"))


def now() -> int:
    return int(time.time())


@dataclass
class Message:
    id: str
    conversation_id: str
    inputs: dict
    query: str
    answer: str = ""
    created_at: int = field(default_factory=now)
    status: str = "normal"
    error: str | None = None
    agent_thoughts: list = field(default_factory=list)
    retriever_resources: list = field(default_factory=list)
    message_files: list = field(default_factory=list)
    feedback: dict | None = None
    #: Human Input records of a chatflow message that paused (fact 24, C04/C10)
    extra_contents: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "parent_message_id": "00000000-0000-0000-0000-000000000000",
            "inputs": self.inputs,
            "query": self.query,
            "answer": self.answer,
            "feedback": self.feedback,
            "retriever_resources": self.retriever_resources,
            "created_at": self.created_at,
            "agent_thoughts": self.agent_thoughts,
            "message_files": self.message_files,
            "status": self.status,
            "error": self.error,
            "extra_contents": self.extra_contents,
        }


@dataclass
class Conversation:
    id: str
    app_id: str
    user: str
    name: str
    inputs: dict
    introduction: str
    created_at: int = field(default_factory=now)
    updated_at: int = field(default_factory=now)
    messages: list[Message] = field(default_factory=list)
    #: creation / update sequence numbers: timestamps tie within a second, list order must not.
    order: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "inputs": self.inputs,
            "status": "normal",
            "introduction": self.introduction,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class Feedback:
    """One end user's rating of a message, as ``GET /app/feedbacks`` lists it."""

    id: str
    app_id: str
    conversation_id: str
    message_id: str
    end_user_id: str
    rating: str
    content: str | None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        def iso(t: float) -> str:
            # Dify prints naive UTC datetimes; the microseconds appear once a row was updated
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + (
                f".{int(t % 1 * 1e6):06d}" if t != self.created_at else ""
            )

        return {
            "id": self.id,
            "app_id": self.app_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "rating": self.rating,
            "content": self.content,
            "from_source": "user",
            "from_end_user_id": self.end_user_id,
            "from_account_id": None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass
class WorkflowRun:
    id: str
    app_id: str
    user: str
    inputs: dict
    status: str = "running"
    outputs: dict = field(default_factory=dict)
    error: str | None = None
    total_steps: int = 0
    total_tokens: int = 0
    created_at: int = field(default_factory=now)
    finished_at: int | None = None
    elapsed_time: float = 0.0


class State:
    def __init__(self) -> None:
        self.ids = Ids()
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, Message] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.workflow_runs: dict[str, WorkflowRun] = {}
        self._end_users: dict[tuple[str, str], str] = {}
        self._seq = 0
        #: unix seconds for new records: Dify stores them at 1-second resolution (tests set a fake clock)
        self.clock: Callable[[], int] = now
        #: app feedbacks, oldest first (``GET /app/feedbacks`` lists them newest first)
        self.feedbacks: list[Feedback] = []
        #: workflow run id → its event log (:class:`.run_log.RunLog`: node records, listeners)
        self.run_logs: dict[str, Any] = {}
        #: form token → Human Input form (:class:`.human_input.Form`)
        self.forms: dict[str, Any] = {}

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- persistence (the demo keeps its conversations across runs of difytui) ----------------

    def snapshot(self) -> dict[str, Any]:
        """Conversations, their messages, end users and the id counters, as JSON-ready data."""
        return {
            "version": 1,
            "ids": self.ids._n,
            "seq": self._seq,
            "end_users": [[app, user, eid] for (app, user), eid in self._end_users.items()],
            "conversations": [asdict(conv) for conv in self.conversations.values()],
        }

    def restore(self, data: dict[str, Any]) -> None:
        if data.get("version") != 1:
            return
        self.ids._n = int(data["ids"])
        self._seq = int(data["seq"])
        self._end_users = {(app, user): eid for app, user, eid in data["end_users"]}
        for raw in data["conversations"]:
            messages = [Message(**m) for m in raw.pop("messages")]
            conv = Conversation(**raw, messages=messages)
            self.conversations[conv.id] = conv
            self.messages.update((m.id, m) for m in messages)

    def end_user_id(self, app_id: str, user: str) -> str:
        key = (app_id, user)
        if key not in self._end_users:
            self._end_users[key] = self.ids.new("end-user")
        return self._end_users[key]

    def conversation(self, app_id: str, user: str, conversation_id: str) -> Conversation | None:
        conv = self.conversations.get(conversation_id)
        if conv is None or conv.app_id != app_id or conv.user != user:
            return None
        return conv

    def new_conversation(self, app: dict, app_id: str, user: str, query: str, inputs: dict):
        name = query if len(query) <= 20 else query[:20] + "..."
        conv = Conversation(
            id=self.ids.new("conversation"),
            app_id=app_id,
            user=user,
            name=name or "New conversation",
            inputs=inputs,
            introduction=app["parameters"].get("opening_statement") or "",
            created_at=self.clock(),
            updated_at=self.clock(),
        )
        seq = self._next_seq()
        conv.order = {"created": seq, "updated": seq}
        self.conversations[conv.id] = conv
        return conv

    def add_message(self, conv: Conversation | None, query: str, inputs: dict) -> Message:
        msg = Message(
            id=self.ids.new("message"),
            conversation_id=conv.id if conv else "",
            inputs=inputs,
            query=query,
            created_at=self.clock(),
        )
        self.messages[msg.id] = msg
        if conv is not None:
            conv.messages.append(msg)
            conv.updated_at = msg.created_at
            conv.order["updated"] = self._next_seq()
        return msg
