"""Event generators per app mode, shaped like Dify 1.14.2's task pipelines (protocol §4.3–4.5).

A generator yields event dicts (envelope keys first, in Dify's order), :class:`Pause` markers for
"work" between events, or :class:`Raw` pre-encoded bytes (benchmark). It is synchronous and checks
``run.stopped`` every time it resumes, so the same generator serves streaming (the server paces it
and writes frames) and blocking (drained at once, then :meth:`Run.blocking_body`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import content
from .state import Conversation, Message, State, WorkflowRun, now
from .wire import sse_frame


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

_CITATION = {
    "position": 1,
    "dataset_id": "3f0c2a9e-1b7d-4c55-9e2f-0d1a6c4b8e71",
    "dataset_name": "difytui docs",
    "document_id": "8d2e4b1a-6c3f-4a9e-b7d0-2f5e1c8a9b34",
    "document_name": "README.md",
    "data_source_type": "upload_file",
    "segment_id": "5a7c9e1b-3d2f-4b6a-8c0e-9f1d2b4a6c88",
    "retriever_from": "api",
    "score": 0.8731,
    "hit_count": 3,
    "word_count": 112,
    "segment_position": 2,
    "index_node_hash": "b1946ac92492d2347c6235b4d2611184",
    "content": "difytui --demo starts a local simulator so every screen works without a server.",
    "page": None,
    "doc_metadata": None,
    "title": None,
    "files": None,
    "summary": None,
}


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
        self.stop_event: Any = None  # asyncio.Event, attached by the server on its loop
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
        if self.mode == "workflow":
            head = {"event": event, "workflow_run_id": self.workflow_run.id}
        elif self.mode == "completion":
            head = {"event": event, "message_id": self.message.id, "created_at": self.created_at}
        else:
            head = {
                "event": event,
                "conversation_id": self.conversation.id,
                "message_id": self.message.id,
                "created_at": self.created_at,
            }
        head["task_id"] = self.task_id
        head.update(fields)
        return head

    def wf_env(self, event: str, data: dict) -> dict:
        return self.env(event, workflow_run_id=self.workflow_run.id, data=data)

    def sys_inputs(self) -> dict:
        wf = self.app["workflow_id"]
        sys: dict[str, Any] = {}
        if self.mode == "advanced-chat":
            sys["sys.query"] = self.query
        sys["sys.files"] = self.files
        sys["sys.user_id"] = self.user
        if self.mode == "advanced-chat":
            sys["sys.dialogue_count"] = len(self.conversation.messages)
        sys["sys.app_id"] = self.app["uuid"]
        sys["sys.workflow_id"] = wf
        sys["sys.workflow_run_id"] = "__RUN__"
        return {**self.inputs, **sys}

    # --- node helpers ---------------------------------------------------------------------------

    def node_started(self, node_id: str, node_type: str, title: str, iteration=None) -> dict:
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

    def node_finished(self, started: dict, inputs, outputs, metadata=None) -> dict:
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
        wr = self.workflow_run
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
        wr = self.workflow_run
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
        wr = self.workflow_run
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
        meta = {"annotation_reply": None, "retriever_resources": [], "usage": self.usage}
        if self.app["parameters"]["retriever_resource"]["enabled"] and self.answer:
            meta["retriever_resources"] = [dict(_CITATION, message_id=self.message.id)]
        return meta

    def message_end(self, files=None) -> dict:
        self.finished = True
        return self.env("message_end", id=self.message.id, metadata=self.metadata(), files=files)

    def blocking_body(self) -> dict:
        if self.mode == "workflow":
            wr = self.workflow_run
            return {
                "task_id": self.task_id,
                "workflow_run_id": wr.id,
                "data": {**self._run_summary(), "created_at": wr.created_at, "finished_at": wr.finished_at},
            }
        body = {
            "event": "message",
            "task_id": self.task_id,
            "id": self.message.id,
            "message_id": self.message.id,
        }
        if self.mode != "completion":
            body["conversation_id"] = self.conversation.id
        body.update(
            mode=self.mode,
            answer=self.answer,
            metadata=self.metadata(),
            created_at=self.created_at,
        )
        return body


# --- generators per mode ------------------------------------------------------------------------


def _stream_answer(run: Run, text: str, event: str = "message", selector=None) -> Iterator[dict]:
    for tok in content.tokens(text):
        if run.stopped:
            return
        run.answer += tok
        if event == "agent_message":
            yield run.env(event, id=run.message.id, answer=tok)
        else:
            yield run.env(event, id=run.message.id, answer=tok, from_variable_selector=selector)


def chat_events(run: Run) -> Iterator[Any]:
    turn = len(run.conversation.messages)
    text = content.support_answer(run.query, run.inputs, turn)
    yield from _stream_answer(run, text)
    run.finish_message()
    yield run.message_end()


def completion_events(run: Run) -> Iterator[Any]:
    yield from _stream_answer(run, content.copy_answer(run.query, run.inputs))
    run.finish_message()
    yield run.message_end()


def agent_events(run: Run) -> Iterator[Any]:
    tool_query, observation, final = content.agent_plan(run.query, run.inputs)
    labels = {"web_search": {"en_US": "Web Search", "zh_Hans": "网页搜索"}}
    thoughts = []

    def thought(tid, position, text="", tool="", tool_input="", obs=""):
        fields = {
            "id": tid,
            "position": position,
            "thought": text,
            "observation": obs,
            "tool": tool,
            "tool_labels": labels if tool else {},
            "tool_input": tool_input,
            "message_files": [],
        }
        record = {
            "id": tid,
            "chain_id": None,
            "message_id": run.message.id,
            "position": position,
            "thought": text,
            "tool": tool,
            "tool_labels": fields["tool_labels"],
            "tool_input": tool_input,
            "created_at": run.created_at,
            "observation": obs,
            "files": [],
        }
        thoughts[position - 1 : position] = [record]
        return run.env("agent_thought", **fields)

    def finish():
        run.message.agent_thoughts = thoughts
        run.finish_message()
        return run.message_end()

    t1 = run.state.ids.new("thought")
    thoughts.append({})
    yield thought(t1, 1)
    intro = "Let me check the weather and the sights first. "
    yield from _stream_answer(run, intro, "agent_message")
    tool_input = json.dumps({"web_search": {"query": tool_query}}, ensure_ascii=False)
    if run.stopped:
        yield finish()
        return
    yield thought(t1, 1, intro, "web_search", tool_input)
    yield Pause(15)
    if run.stopped:
        yield finish()
        return
    result = json.dumps({"web_search": observation}, ensure_ascii=False)
    yield thought(t1, 1, intro, "web_search", tool_input, result)
    t2 = run.state.ids.new("thought")
    thoughts.append({})
    yield thought(t2, 2)
    before = len(run.answer)
    yield from _stream_answer(run, final, "agent_message")
    yield thought(t2, 2, run.answer[before:])
    yield finish()


def chatflow_events(run: Run) -> Iterator[Any]:
    turn = len(run.conversation.messages)
    text = content.trip_answer(run.query, run.inputs, turn)
    # The Answer node's template opens with start inputs ("# {{city}} in {{season}}"), then the
    # LLM's text: Dify streams the first part at once, before any node event (run_chat_turn1).
    heading, _, body = text.partition("\n\n")
    heading += "\n\n"
    outputs: dict = {}
    yield run.workflow_started()
    yield from _stream_answer(run, heading, selector=["answer", "answer"])
    if not run.stopped:
        started = run.node_started("start", "start", "Start")
        yield started
        yield run.node_finished(started, dict(run.inputs), dict(run.inputs))
        yield Pause(ENGINE_START)
    if not run.stopped:
        started = run.node_started("llm", "llm", "Plan the trip")
        yield started
        yield Pause(8)
        yield from _stream_answer(run, body, selector=["llm", "text"])
        if not run.stopped:
            yield run.node_finished(
                started,
                {"query": run.query},
                {"text": body, "finish_reason": "stop"},
                {"total_tokens": 42, "total_price": "0.0000840", "currency": "USD"},
            )
    if not run.stopped:
        started = run.node_started("answer", "answer", "Answer")
        yield started
        outputs = {"answer": run.answer, "files": []}
        yield run.node_finished(started, {}, outputs)
    run.finish_message()
    if not run.stopped:
        # The relay stops at workflow_finished, so a stopped chatflow never delivers message_end.
        yield run.message_end(files=[])
    yield run.workflow_finished(outputs)


def workflow_events(run: Run) -> Iterator[Any]:
    inputs = run.inputs
    titles = content.section_titles(inputs.get("topic") or "", inputs.get("sections") or 3)
    audience = inputs.get("audience") or "everyone"
    include_code = bool(inputs.get("include_code"))
    yield run.workflow_started()

    def stopped_end():
        return run.workflow_finished({})

    def chunks(text: str, selector: list[str]) -> Iterator[dict]:
        for tok in content.tokens(text, 6):
            if run.stopped:
                return
            run.answer += tok
            yield run.wf_env("text_chunk", {"text": tok, "from_variable_selector": selector})

    # The End node's template opens with start inputs: Dify streams that part before any node
    # event (wf_slow_streaming_stopped: text_chunk, then node_started of Start).
    head = content.report_head(inputs)
    yield from chunks(head, ["end", "report"])
    if run.stopped:
        yield stopped_end()
        return
    started = run.node_started("start", "start", "Start")
    yield started
    yield run.node_finished(started, dict(inputs), dict(inputs))
    yield Pause(ENGINE_START)
    if run.stopped:
        yield stopped_end()
        return
    started = run.node_started("plan", "code", "Plan sections")
    yield started
    yield Pause(5)
    yield run.node_finished(
        started, {"topic": inputs.get("topic"), "sections": len(titles)}, {"titles": titles}
    )
    if run.stopped:
        yield stopped_end()
        return

    it_id = "draft_sections"
    it_data = {
        "id": it_id,
        "node_id": it_id,
        "node_type": "iteration",
        "title": "Draft each section",
        "created_at": now(),
        "extras": {},
        "metadata": {"iterator_length": len(titles)},
        "inputs": {"iterator_selector": ["plan", "titles"]},
        "inputs_truncated": False,
    }
    yield run.wf_env("iteration_started", it_data)
    drafts = []
    for i, title in enumerate(titles):
        if run.stopped:
            yield stopped_end()
            return
        yield run.wf_env(
            "iteration_next",
            {
                "id": it_id,
                "node_id": it_id,
                "node_type": "iteration",
                "title": "Draft each section",
                "index": i,
                "created_at": now(),
                "extras": {},
            },
        )
        started = run.node_started("draft_llm", "llm", "Draft section", iteration=it_id)
        yield started
        yield Pause(10)
        draft = content.section_draft(title, audience, include_code)
        drafts.append(draft)
        yield run.node_finished(
            started,
            {"title": title},
            {"text": draft, "finish_reason": "stop"},
            {"total_tokens": 64, "iteration_id": it_id, "iteration_index": i},
        )
    yield run.wf_env(
        "iteration_completed",
        {
            "id": it_id,
            "node_id": it_id,
            "node_type": "iteration",
            "title": "Draft each section",
            "outputs": {"output": drafts},
            "outputs_truncated": False,
            "created_at": it_data["created_at"],
            "extras": {},
            "inputs": it_data["inputs"],
            "inputs_truncated": False,
            "status": "succeeded",
            "error": None,
            "elapsed_time": round(0.05 * len(titles), 6),
            "total_tokens": 64 * len(titles),
            "execution_metadata": {"total_tokens": 64 * len(titles)},
            "finished_at": now(),
            "steps": len(titles),
        },
    )
    report = content.report_text(inputs, drafts)
    started = run.node_started("end", "end", "End")
    yield started
    yield from chunks(report[len(head) :], ["template", "output"])
    if run.stopped:
        yield stopped_end()
        return
    summary = {
        "topic": inputs.get("topic"),
        "audience": audience,
        "sections": len(titles),
        "words": len(report.split()),
        "include_code": include_code,
    }
    outputs = {"report": report, "summary": summary}
    yield run.node_finished(started, outputs, outputs)
    run.usage = {"total_tokens": 64 * len(titles) + 20}
    yield run.workflow_finished(outputs)


def bench_events(run: Run) -> Iterator[Any]:
    """N identical pre-encoded message events in large batches, so the server is not the limit."""
    n = run.inputs.get("events")
    n = 50000 if n is None else max(0, int(n))
    frame = sse_frame(run.env("message", id=run.message.id, answer="tok ", from_variable_selector=None))
    batch = 1000
    sent = 0
    while sent < n and not run.stopped:
        k = min(batch, n - sent)
        yield Raw(frame * k, k)
        sent += k
    run.answer = "tok " * sent
    run.finish_message()
    yield run.message_end()


def events_for(run: Run) -> Iterator[Any]:
    if run.app_id == "bench-stream":
        return bench_events(run)
    return {
        "chat": chat_events,
        "agent-chat": agent_events,
        "advanced-chat": chatflow_events,
        "workflow": workflow_events,
        "completion": completion_events,
    }[run.mode](run)
