"""What Save as test case saves: a pane's current conversation (its turns, in order) or its last
run (inputs, and the answer or outputs), as runs finish. No widgets; the pane feeds it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from difytui.tui.models import RunRequest


@dataclass
class Transcript:
    """The turns of the pane's conversation since this console saw it start (chat), or the last
    run (workflow, completion). ``partial``: the conversation began before (a continued one), so
    its earlier turns are not here."""

    inputs: dict[str, Any] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    answer: str = ""
    outputs: Mapping[str, Any] | None = None
    status: str = ""  # "" until a run finished
    conversation_id: str | None = None
    partial: bool = False
    files: bool = False  # a run sent files, which a case cannot replay from here

    def finished(
        self,
        request: RunRequest,
        status: str,
        answer: str,
        outputs: object,
        conversation_id: str | None,
    ) -> None:
        """A run ended with Dify's own end (``status``); a chat turn extends its conversation."""
        if request.interface == "chat":
            if request.conversation_id is None or request.conversation_id != self.conversation_id:
                self.queries = []  # a new conversation, or one this console did not see start
                self.partial = request.conversation_id is not None
                self.files = False
            self.queries.append(request.query)
            self.conversation_id = conversation_id or request.conversation_id
        self.inputs = dict(request.inputs)
        self.files = self.files or bool(request.files)
        self.status = status
        self.answer = answer
        self.outputs = outputs if isinstance(outputs, Mapping) else None
        if request.interface == "workflow" and self.outputs is None and outputs is not None:
            self.outputs = {"output": outputs}
