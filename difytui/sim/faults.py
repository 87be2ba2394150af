"""What a fault injected with :meth:`~.simulator.Simulator.add_fault` sends in place of the answer.

A proxy's error page (``status``), a generation error event (``error``) and a workflow pausing on
a form (``pause``); the server decides when (:mod:`.server`).
"""

from __future__ import annotations

from typing import Any

from . import wire
from .runs import Run

#: faults that act on a stream, after ``after`` data events
STREAM_FAULTS = ("cut", "malformed", "eof", "error", "pause", "hold", "drop")


def error_event(run: Run, fault: dict) -> dict:
    """A generation error as the in-process path (chat, agent, completion) streams it: with a code."""
    envelope: dict[str, Any] = {"event": "error"}
    if run.conversation is not None:
        envelope["conversation_id"] = run.conversation.id
    if run.message is not None:
        envelope["message_id"] = run.message.id
    envelope["created_at"] = run.created_at
    envelope["code"] = fault.get("code", "completion_request_error")
    envelope["message"] = fault.get("message", "[openai] Rate Limit Error")
    envelope["status"] = fault.get("status", 400)
    return envelope


def pause_events(run: Run) -> list[dict]:
    """``human_input_required`` then ``workflow_paused``, as a workflow or chatflow pausing on a form."""
    form = {
        "form_id": "f0000000-0000-4000-8000-000000000001",
        "node_id": "human",
        "node_title": "Review",
        "form_content": "Please review the draft.",
        "inputs": [],
        "actions": [{"id": "approve", "title": "Approve", "button_style": "primary"}],
        "display_in_ui": True,
        "form_token": "form-token-1",
        "resolved_default_values": {},
        "expiration_time": run.created_at + 3600,
    }
    paused = {
        "workflow_run_id": run.wf_run.id,
        "paused_nodes": ["human"],
        "outputs": {},
        "reasons": [{"TYPE": "human_input_required", **form}],
        "status": "paused",
        "created_at": run.created_at,
        "elapsed_time": run.elapsed(),
        "total_tokens": 0,
        "total_steps": 2,
    }
    return [run.wf_env("human_input_required", form), run.wf_env("workflow_paused", paused)]


def fault_response(fault: dict) -> wire.Response:
    body = fault.get("body", b"")
    if isinstance(body, str):
        body = body.encode()
    ctype = fault.get("content_type")
    if ctype is None:
        ctype = wire.JSON if body[:1] in (b"{", b"[") else wire.HTML
    # A proxy's error page carries none of Dify's headers (unless the test asks for them).
    return wire.Response(
        int(fault.get("status", 502)),
        body,
        ctype,
        dict(fault.get("headers", {})),
        bare=not fault.get("dify_headers", False),
    )
