"""Typed messages that workers post to the pane that started them.

Workers never touch widgets: they turn what Dify sends into these messages, and the pane (or the
app, for the app list) updates its widgets in the handlers. Every run message carries the
``run_id`` of its run so a pane can ignore late messages from a run it has already stopped, and
the raw ``event`` dict for the raw-event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual.message import Message

from difytui.human_input import HumanInputForm
from difytui.models import AppInfo


@dataclass
class RunMessage(Message):
    bubble: ClassVar[bool] = False  # for the pane that started the run only

    run_id: int


@dataclass
class RunStarted(RunMessage):
    """The request is on its way (the stream is being opened)."""

    started_at: float


@dataclass
class StreamEvent(RunMessage):
    """Base for messages made from one event of the stream."""

    event: dict[str, Any]
    received_at: float


@dataclass
class AnswerDelta(StreamEvent):
    """More answer text (chat ``message``/``agent_message``, completion, workflow ``text_chunk``)."""

    text: str


@dataclass
class AnswerReplaced(StreamEvent):
    """``message_replace``: output moderation replaced the whole answer."""

    text: str


@dataclass
class NodeEvent(StreamEvent):
    """A workflow/chatflow graph event: workflow_started, node_*, iteration_*, loop_*, agent_log."""


@dataclass
class AgentThought(StreamEvent):
    """An agent's thought/tool call (merged by ``id`` on the pane's side)."""


@dataclass
class OtherEvent(StreamEvent):
    """Any other event (message_end, workflow_finished, tts…): shown in the raw log only."""


@dataclass
class RunIds(StreamEvent):
    """The first event that carried ids, or one whose ids changed (task/conversation/message/run)."""

    task_id: str | None
    conversation_id: str | None
    message_id: str | None
    workflow_run_id: str | None


@dataclass
class RunFinished(RunMessage):
    """The stream ended with its terminal event. ``status`` is succeeded/failed/stopped/paused."""

    status: str
    finished_at: float
    first_event_at: float | None
    error: str | None = None
    outputs: dict[str, Any] | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    elapsed_time: float | None = None  # Dify's own, when it reports it
    metadata: dict[str, Any] = field(default_factory=dict)  # message_end's (citations)


@dataclass
class RunFailed(RunMessage):
    """The request or the stream failed; ``message`` is readable, never a traceback."""

    message: str
    code: str = ""
    status: int | None = None
    finished_at: float = 0.0
    first_event_at: float | None = None


@dataclass
class StopDone(Message):
    """Dify's stop endpoint answered (``error`` is None) or could not be reached."""

    task_id: str
    error: str | None = None


@dataclass
class ParametersLoaded(Message):
    app_id: str
    parameters: dict[str, Any]


@dataclass
class ParametersFailed(Message):
    app_id: str
    message: str


@dataclass
class HistoryLoaded(Message):
    """Recent messages of the conversation being continued (oldest first)."""

    conversation_id: str
    messages: list[dict[str, Any]]
    #: set instead of messages when the workspace cannot list history (account workspaces)
    unavailable: str = ""


@dataclass
class AppsRefreshed(Message):
    apps: list[AppInfo]


@dataclass
class AppsRefreshFailed(Message):
    message: str


@dataclass
class FormsPending(StreamEvent):
    """``workflow_paused``: the forms the run waits for (posted before its ``RunFinished``)."""

    forms: list[HumanInputForm]


@dataclass
class FormRefused(RunMessage):
    """Dify refused a form's submit. ``invalid``: Dify's message belongs on the form, which can be
    sent again (the run is over: no RunFinished follows); else it was submitted elsewhere, expired
    or is gone, and the run's state is read again (its events follow)."""

    form_token: str
    message: str
    invalid: bool


@dataclass
class FinalAnswer(StreamEvent):
    """A resumed chatflow's whole answer (``workflow_finished.outputs.answer``): Dify 1.14.2's
    resumed stream drops the text after the pause."""

    text: str


@dataclass
class FormFilled(StreamEvent):
    """``human_input_form_filled``: a form was submitted (its action shows in the timeline)."""
