"""Each workflow run's event log: its node records, its listeners and the replay ``/events`` sends.

Dify relays a workflow or chatflow run's events through Redis pub/sub and rebuilds a snapshot
from its database (captures A22, C05, L03): :class:`RunLog` is both for one simulated run. Every
event a run's script yields is :meth:`published <RunLog.publish>` (streaming, blocking or detached
alike), so a listener on ``GET /workflow/:run_id/events`` sees the same run whoever drives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .human_input import Form
    from .runs import Run


class Suspend:
    """A Human Input node paused the run: the stream ends here and a form submit resumes the script."""


SUSPEND = Suspend()
#: What a listener's queue receives after the run's last event: nothing more will come.
CLOSED: dict[str, Any] = {"event": "__closed__"}


@dataclass
class NodeRecord:
    """One node execution as Dify's database keeps it (the snapshot replays these)."""

    id: str
    node_id: str
    node_type: str
    title: str
    created_at: int
    iteration_id: str | None = None
    status: str = "running"
    finished_at: int | None = None
    elapsed_time: float = 0.0


class RunLog:
    """A workflow run's published events, node records, pending forms and listeners."""

    def __init__(self, run: Run) -> None:
        self.run = run
        #: the script, kept suspended while the run waits on a form (a submit drives the rest)
        self.script: Iterator[Any] | None = None
        self.nodes: list[NodeRecord] = []
        #: the forms of the current pause, in node order
        self.forms: list[Form] = []
        #: (form, inputs, action) of the submit that resumes the run
        self.submission: tuple[Form, dict, str] | None = None
        #: a stop call reached the run while it was paused: Dify ignores it until the resume (X14)
        self.stopped_while_paused = False
        #: the run was started streaming (a chat's stored answer differs by origin, C10)
        self.streaming = False
        self._listeners: set[asyncio.Queue[dict]] = set()

    @property
    def paused(self) -> bool:
        return self.run.wf_run.status == "paused"

    # --- publishing ----------------------------------------------------------------------------

    def publish(self, event: dict) -> None:
        self._record(event)
        for queue in self._listeners:
            queue.put_nowait(event)

    def close(self) -> None:
        """The script ended: listeners that wait for more get told (a stopped-while-paused run's
        record stays "running", so their streams go on pinging, as Dify's do: X20)."""
        for queue in self._listeners:
            queue.put_nowait(CLOSED)

    def subscribe(self) -> asyncio.Queue[dict]:
        queue: asyncio.Queue[dict] = asyncio.Queue()
        self._listeners.add(queue)
        return queue

    @property
    def listened(self) -> bool:
        """Whether an ``/events`` client listens now (a dropped run waits for one: :mod:`.drops`)."""
        return bool(self._listeners)

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        self._listeners.discard(queue)

    def _record(self, event: dict) -> None:
        kind, data = event.get("event"), event.get("data") or {}
        if kind == "node_started":
            known = next((n for n in self.nodes if n.id == data["id"]), None)
            if known is not None:  # a Human Input node resumes with its execution id (A24)
                known.status = "running"
                return
            self.nodes.append(
                NodeRecord(
                    id=data["id"],
                    node_id=data["node_id"],
                    node_type=data["node_type"],
                    title=data["title"],
                    created_at=data["created_at"],
                    iteration_id=data.get("iteration_id"),
                )
            )
        elif kind == "node_finished":
            for node in self.nodes:
                if node.id == data["id"]:
                    node.status = data["status"]
                    node.finished_at = data["finished_at"]
                    node.elapsed_time = data["elapsed_time"]
        elif kind == "workflow_paused":
            paused = set(data.get("paused_nodes") or [])
            for node in self.nodes:
                if node.status == "running" and node.node_id in paused:
                    node.status, node.finished_at = "paused", node.created_at
                    node.elapsed_time = 0.0137

    # --- the snapshot --------------------------------------------------------------------------

    def replay(self) -> list[dict]:
        """``include_state_snapshot=true``: the run rebuilt from the database (fact 16): no inputs
        or outputs, node indexes counted, a paused run's forms with their unrendered template."""
        run, wr = self.run, self.run.wf_run
        # the real task_id only while paused; a running run's replay carries the run id (A42, L03)
        task_id = run.task_id if self.paused else wr.id

        def env(event: str, **fields: Any) -> dict:
            out = {"event": event, "task_id": task_id}
            if "data" in fields:
                out["workflow_run_id"] = wr.id
            out.update(fields)
            if run.mode == "advanced-chat":
                out.update(conversation_id=run.conv.id, message_id=run.msg.id, created_at=run.created_at)
            return out

        started = {
            "id": wr.id,
            "workflow_id": run.app["workflow_id"],
            "inputs": wr.inputs,
            "created_at": wr.created_at,
            "reason": "initial",
        }
        out = [env("workflow_started", data=started)]
        if run.mode == "advanced-chat":
            out.append(env("message_replace", answer=run.msg.answer, reason=""))
        for index, node in enumerate(self.nodes, 1):
            head = {
                "id": node.id,
                "node_id": node.node_id,
                "node_type": node.node_type,
                "title": node.title,
                "index": index,
                "predecessor_node_id": None,
                "inputs": None,
            }
            tail = {"iteration_id": node.iteration_id, "loop_id": None}
            out.append(
                env("node_started", data={**head, "created_at": node.created_at, "extras": {}, **tail})
            )
            if node.status != "running":
                finished = {
                    **head,
                    "process_data": None,
                    "outputs": None,
                    "status": node.status,
                    "error": None,
                    "elapsed_time": node.elapsed_time,
                    "execution_metadata": None,
                    "created_at": node.created_at,
                    "finished_at": node.finished_at,
                    "files": [],
                    **tail,
                }
                out.append(env("node_finished", data=finished))
        if self.paused and self.forms:
            for form in self.forms:
                out.append(env("human_input_required", data=form.required_data(template=True)))
            out.append(env("workflow_paused", data=paused_data(run, self.forms, replay=True)))
        return out


def paused_data(run: Run, forms: list[Form], *, replay: bool = False) -> dict:
    """``workflow_paused.data`` (fact 4); the replay's form_content is the template, elapsed 0.0."""
    wr = run.wf_run
    return {
        "workflow_run_id": wr.id,
        "paused_nodes": [f.node_id for f in forms],
        "outputs": {},
        "reasons": [f.reason(template=replay) for f in forms],
        "status": "paused",
        "created_at": wr.created_at,
        "elapsed_time": 0.0 if replay else run.elapsed(),
        "total_tokens": 0,
        "total_steps": len(run.state.run_logs[wr.id].nodes),
    }


def log_of(run: Run) -> RunLog:
    """The run's log (workflow and chatflow runs have one from their first event)."""
    logs = run.state.run_logs
    wr_id = run.wf_run.id
    if wr_id not in logs:
        logs[wr_id] = RunLog(run)
    return logs[wr_id]


def published(run: Run, script: Iterator[Any]) -> Iterator[Any]:
    """The script with every event published to the run's log as it is drawn."""
    log = log_of(run)
    for item in script:
        if isinstance(item, dict):
            log.publish(item)
        yield item
    log.close()


def paused_body(run: Run) -> dict:
    """A blocking call's answer when the run pauses (fact 5; A02 workflow, C02 chat)."""
    log = log_of(run)
    paused = paused_data(run, log.forms)
    wr = run.wf_run
    if run.mode == "workflow":
        data = {
            "id": wr.id,
            "workflow_id": run.app["workflow_id"],
            "status": "paused",
            "outputs": {},
            "error": None,
            "elapsed_time": paused["elapsed_time"],
            "total_tokens": 0,
            "total_steps": paused["total_steps"],
            "created_at": wr.created_at,
            "finished_at": None,
            "paused_nodes": paused["paused_nodes"],
            "reasons": paused["reasons"],
        }
        return {"task_id": run.task_id, "workflow_run_id": wr.id, "data": data}
    metadata = {"annotation_reply": None, "retriever_resources": [], "usage": None}
    head = {
        "id": run.msg.id,
        "mode": run.mode,
        "conversation_id": run.conv.id,
        "message_id": run.msg.id,
        "workflow_run_id": wr.id,
        "answer": run.answer,
        "metadata": metadata,
        "created_at": run.created_at,
    }
    data = {
        **head,
        "paused_nodes": paused["paused_nodes"],
        "reasons": paused["reasons"],
        "status": "paused",
        "elapsed_time": paused["elapsed_time"],
        "total_tokens": 0,
        "total_steps": paused["total_steps"],
    }
    return {
        "event": "workflow_paused",
        "task_id": run.task_id,
        "id": run.msg.id,
        "message_id": run.msg.id,
        "conversation_id": run.conv.id,
        "mode": run.mode,
        "answer": run.answer,
        "metadata": metadata,
        "created_at": run.created_at,
        "workflow_run_id": wr.id,
        "data": data,
    }
