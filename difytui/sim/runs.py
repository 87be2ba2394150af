"""Run bookkeeping: one generation task's ids, records, stop flag, envelopes and final bodies.

A :class:`Run` is what the event scripts (:mod:`.events`) advance and what a stop call reaches; it
keeps the workflow-run record and the (possibly partial) answer in history. :func:`new_run` creates
it with the history records its app's mode keeps, for both the Service API and the account API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import content
from .state import Conversation, Message, State, WorkflowRun, now

if TYPE_CHECKING:
    import asyncio

#: App modes that hold conversations (and the chat routes' mode check).
CHAT_MODES = ("chat", "agent-chat", "advanced-chat", "agent")


@dataclass
class Pause:
    """Simulated work: sleep ``factor`` × token_delay (interrupted by a stop)."""

    factor: float


@dataclass
class Raw:
    """Pre-encoded SSE bytes holding ``count`` data events."""

    data: bytes
    count: int


STOPPED_ERROR = "Stopped by user."
#: A stop that reaches the graph engine while it is still starting ends the *stream* as a failure
#: with this error (Dify 1.14.2); the run's record still says "stopped".
ABORTED_ERROR = "Aborted: User requested stop"
#: Simulated work between the Start node and the next one: the engine starting up. A stop landing
#: before the next node starts is an "early" stop (about 0.3 s in with the demo's pacing).
ENGINE_START = 5


def usage(prompt: str, answer: str, elapsed: float) -> dict:
    """LLMUsage as Dify serialises it (Decimal fields as strings, as in the captures)."""
    p, c = 12 + len(prompt) // 4, len(answer) // 4

    def price(tokens: int, unit: str) -> str:
        return f"{tokens * float(unit) * 0.001:.7f}"

    return {
        "prompt_tokens": p,
        "prompt_unit_price": "0.001",
        "prompt_price_unit": "0.001",
        "prompt_price": price(p, "0.001"),
        "completion_tokens": c,
        "completion_unit_price": "0.002",
        "completion_price_unit": "0.001",
        "completion_price": price(c, "0.002"),
        "total_tokens": p + c,
        "total_price": f"{p * 0.000001 + c * 0.000002:.7f}",
        "currency": "USD",
        "latency": round(max(elapsed, 0.0123), 3),
        "time_to_first_token": 0.112,
        "time_to_generate": round(max(elapsed - 0.112, 0.0123), 3),
    }


class Run:
    """One generation task: ids, inputs, the stop flag and the partial answer."""

    def __init__(
        self,
        *,
        state: State,
        app_id: str,
        app: dict,
        user: str,
        inputs: dict,
        query: str = "",
        files: list | None = None,
        conversation: Conversation | None = None,
        message: Message | None = None,
        created_by: dict | None = None,
    ) -> None:
        self.state = state
        self.app_id = app_id
        self.app = app
        self.mode = app["mode"]
        self.user = user
        self.inputs = inputs
        self.query = query
        self.files = files or []
        self.conversation = conversation
        self.message = message
        self.task_id = state.ids.new("task")
        self.created_at = now()
        self.answer = ""
        self.stopped = False
        self.finished = False
        #: the stop landed before the engine started its first node after Start (see ENGINE_START)
        self.stopped_early = False
        #: a node other than Start has started: a stop now ends the stream "stopped"
        self.engine_started = False
        #: workflow_finished.created_by: the end user on /v1, the account ({id, name, email}) on
        #: the account API
        self.created_by = created_by
        self.stop_event: asyncio.Event | None = None  # attached by the server on its loop
        self.workflow_run: WorkflowRun | None = None
        self.usage: dict | None = None
        self._index = 0
        if self.mode in ("workflow", "advanced-chat"):
            self.workflow_run = WorkflowRun(
                id=state.ids.new("workflow-run"),
                app_id=app_id,
                user=user,
                inputs=self.sys_inputs(),
            )
            state.workflow_runs[self.workflow_run.id] = self.workflow_run

    # The records a mode keeps, for code that only runs in those modes (a miss is a simulator bug).

    @property
    def wf_run(self) -> WorkflowRun:
        """The workflow-run record (workflow and chatflow runs)."""
        assert self.workflow_run is not None, self.mode
        return self.workflow_run

    @property
    def msg(self) -> Message:
        """The message in history (chat-family and completion runs)."""
        assert self.message is not None, self.mode
        return self.message

    @property
    def conv(self) -> Conversation:
        """The conversation (chat-family runs)."""
        assert self.conversation is not None, self.mode
        return self.conversation

    @property
    def path_b(self) -> bool:
        """Workflow-based apps stream through Dify's Celery relay (ping first, open after error)."""
        return self.mode in ("workflow", "advanced-chat")

    def stop(self) -> None:
        if not self.stopped:
            self.stopped_early = not self.engine_started
        self.stopped = True
        if self.stop_event is not None:
            self.stop_event.set()

    def elapsed(self) -> float:
        """Simulated seconds, derived from the work done so the same request gives the same bytes."""
        return round(0.0123 + 0.0021 * self._index + 0.0004 * len(self.answer), 6)

    # --- envelopes ------------------------------------------------------------------------------

    def env(self, event: str, **fields: Any) -> dict:
        head: dict[str, Any]
        if self.mode == "workflow":
            head = {"event": event, "workflow_run_id": self.wf_run.id}
        elif self.mode == "completion":
            head = {"event": event, "message_id": self.msg.id, "created_at": self.created_at}
        else:
            head = {
                "event": event,
                "conversation_id": self.conv.id,
                "message_id": self.msg.id,
                "created_at": self.created_at,
            }
        head["task_id"] = self.task_id
        head.update(fields)
        return head

    def wf_env(self, event: str, data: dict) -> dict:
        return self.env(event, workflow_run_id=self.wf_run.id, data=data)

    def sys_inputs(self) -> dict:
        wf = self.app["workflow_id"]
        sys: dict[str, Any] = {}
        if self.mode == "advanced-chat":
            sys["sys.query"] = self.query
        sys["sys.files"] = self.files
        sys["sys.user_id"] = self.user
        if self.mode == "advanced-chat":
            sys["sys.dialogue_count"] = len(self.conv.messages)
        sys["sys.app_id"] = self.app["uuid"]
        sys["sys.workflow_id"] = wf
        sys["sys.workflow_run_id"] = "__RUN__"
        return {**self.inputs, **sys}

    # --- node helpers ---------------------------------------------------------------------------

    def node_started(self, node_id: str, node_type: str, title: str, iteration: str | None = None) -> dict:
        self._index += 1
        if node_type != "start":
            self.engine_started = True
        data = {
            "id": self.state.ids.new("node-exec"),
            "node_id": node_id,
            "node_type": node_type,
            "title": title,
            # Dify 1.14.2 sends 1 for every node, inside iterations too: not a step counter.
            "index": 1,
            "predecessor_node_id": None,
            "inputs": None,
            "inputs_truncated": False,
            "created_at": now(),
            "extras": {},
            "iteration_id": iteration,
            "loop_id": None,
            "agent_strategy": None,
        }
        return self.wf_env("node_started", data)

    def node_finished(self, started: dict, inputs: dict, outputs: dict, metadata: dict | None = None) -> dict:
        s = started["data"]
        data = {
            "id": s["id"],
            "node_id": s["node_id"],
            "node_type": s["node_type"],
            "title": s["title"],
            "index": s["index"],
            "predecessor_node_id": None,
            "inputs": inputs,
            "inputs_truncated": False,
            "process_data": {},
            "process_data_truncated": False,
            "outputs": outputs,
            "outputs_truncated": False,
            "status": "succeeded",
            "error": None,
            "elapsed_time": round(0.0123 + 0.0007 * self._index, 6),
            "execution_metadata": metadata,
            "created_at": s["created_at"],
            "finished_at": now(),
            "files": [],
            "iteration_id": s["iteration_id"],
            "loop_id": None,
        }
        return self.wf_env("node_finished", data)

    def workflow_started(self) -> dict:
        wr = self.wf_run
        wr.inputs["sys.workflow_run_id"] = wr.id
        data = {
            "id": wr.id,
            "workflow_id": self.app["workflow_id"],
            "inputs": wr.inputs,
            "created_at": wr.created_at,
            "reason": "initial",
        }
        return self.wf_env("workflow_started", data)

    def workflow_finished(self, outputs: dict) -> dict:
        wr = self.wf_run
        if self.stopped:
            error = ABORTED_ERROR if self.stopped_early else STOPPED_ERROR
            wr.status, wr.outputs, wr.error = "stopped", {}, error
        else:
            wr.status, wr.outputs, wr.error = "succeeded", outputs, None
        wr.total_steps = self._index
        wr.total_tokens = (self.usage or {}).get("total_tokens", 0)
        wr.finished_at = now()
        wr.elapsed_time = self.elapsed()
        data = self._run_summary()
        if self.stopped_early:
            data["status"] = "failed"  # the stream only: the record (wr.status) says "stopped"
        created_by = self.created_by or {
            "id": self.state.end_user_id(self.app_id, self.user),
            "user": self.user,
        }
        data = {
            **data,
            "created_by": created_by,
            "created_at": wr.created_at,
            "finished_at": wr.finished_at,
            "exceptions_count": 0,
            "files": [],
        }
        self.finished = True
        return self.wf_env("workflow_finished", data)

    def _run_summary(self) -> dict:
        """The leading fields a finished workflow run reports, in Dify's order (stream and blocking)."""
        wr = self.wf_run
        return {
            "id": wr.id,
            "workflow_id": self.app["workflow_id"],
            "status": wr.status,
            "outputs": wr.outputs,
            "error": wr.error,
            "elapsed_time": wr.elapsed_time,
            "total_tokens": wr.total_tokens,
            "total_steps": wr.total_steps,
        }

    # --- chat-family helpers --------------------------------------------------------------------

    def finish_message(self) -> None:
        """Keep the (possibly partial) answer in history and compute usage."""
        self.usage = usage(self.query + str(self.inputs), self.answer, self.elapsed())
        if self.message is not None:
            self.message.answer = self.answer
        if self.conversation is not None:
            self.conversation.updated_at = now()

    def metadata(self) -> dict:
        meta: dict[str, Any] = {"annotation_reply": None, "retriever_resources": [], "usage": self.usage}
        if self.app["parameters"]["retriever_resource"]["enabled"] and self.answer:
            # Streamed as Dify's citation objects (no ids); history lists them with theirs.
            meta["retriever_resources"] = [dict(content.CITATION)]
            if self.message is not None and not self.message.retriever_resources:
                self.message.retriever_resources = [
                    content.history_citation(content.CITATION, self.message.id, now())
                ]
        return meta

    def message_end(self, files: list | None = None) -> dict:
        self.finished = True
        return self.env("message_end", id=self.msg.id, metadata=self.metadata(), files=files)

    def blocking_body(self) -> dict:
        if self.mode == "workflow":
            wr = self.wf_run
            return {
                "task_id": self.task_id,
                "workflow_run_id": wr.id,
                "data": {**self._run_summary(), "created_at": wr.created_at, "finished_at": wr.finished_at},
            }
        body: dict[str, Any] = {
            "event": "message",
            "task_id": self.task_id,
            "id": self.msg.id,
            "message_id": self.msg.id,
        }
        if self.mode != "completion":
            body["conversation_id"] = self.conv.id
        body.update(
            mode=self.mode,
            answer=self.answer,
            metadata=self.metadata(),
            created_at=self.created_at,
        )
        return body


@dataclass
class Stream:
    """A streaming answer: a run to pace, a path-B worker error (ping, error, silence) or a listener."""

    run: Run | None = None
    error: str | None = None
    #: response headers instead of the Service API's (the account API sends its own set)
    headers: dict[str, str] | None = field(default=None)
    #: a ``/workflow/:run_id/events`` listener instead (:class:`.api_events.Listen`)
    listen: Any = None


def new_run(
    state: State,
    *,
    app_id: str,
    app: dict,
    user: str,
    inputs: dict,
    files: list,
    query: str = "",
    conversation: Conversation | None = None,
    created_by: dict | None = None,
) -> Run:
    """A run and the history its mode keeps: chat modes add the query to ``conversation`` (a new
    one when None), completion keeps a message outside any conversation, a workflow neither."""
    message = None
    if app["mode"] in CHAT_MODES:
        if conversation is None:
            conversation = state.new_conversation(app, app_id, user, query, inputs)
        message = state.add_message(conversation, query, inputs)
    elif app["mode"] == "completion":
        message = state.add_message(None, query, inputs)
    return Run(
        state=state,
        app_id=app_id,
        app=app,
        user=user,
        inputs=inputs,
        query=query,
        files=files,
        conversation=conversation,
        message=message,
        created_by=created_by,
    )
