"""Typed messages that workers post to the pane that started them.

Workers never touch widgets: they turn what Dify sends into these messages, and the pane (or the
app, for the app list) updates its widgets in the handlers. Every run message carries the
``run_id`` of its run so a pane can ignore late messages from a run it has already stopped, and
the raw ``event`` dict for the raw-event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from difytui.history import Conversation, MessagePager
from difytui.history import Message as HistoryMessage
from difytui.human_input import HumanInputForm
from difytui.models import AppInfo


class WorkerMessage(Message):
    """A worker's report to the widget that started it: handled there, never bubbled up.

    Textual sets ``bubble`` again on every subclass (``Message.__init_subclass__`` defaults it to
    True), so a ``bubble = False`` in a class body is undone: this base passes False instead. A
    bubbling answer token was dispatched four times (pane, panes switcher, screen, app), three
    quarters of the loop's message work in a burst."""

    def __init_subclass__(cls, bubble: bool | None = False, **kwargs: Any) -> None:
        super().__init_subclass__(bubble=bubble, **kwargs)


@dataclass
class RunMessage(WorkerMessage):
    run_id: int


@dataclass
class RunStarted(RunMessage):
    """The request is on its way (the stream is being opened)."""

    started_at: float


@dataclass
class UploadProgress(RunMessage):
    """A local file of the run is being uploaded (files over 1 MB): ``sent`` of ``total`` bytes."""

    name: str
    sent: int
    total: int


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
class RunReconnected(RunMessage):
    """The stream's connection dropped and the library re-attached it to the run (``count`` so far)."""

    count: int


@dataclass
class AnswerReconciled(RunMessage):
    """A re-attached chatflow's whole answer (``workflow_finished.outputs.answer``): text streamed
    while the connection was down never arrived, so this replaces the streamed text."""

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
class StopDone(WorkerMessage):
    """Dify's stop endpoint answered (``error`` is None) or could not be reached."""

    task_id: str
    error: str | None = None


@dataclass
class ParametersLoaded(WorkerMessage):
    app_id: str
    parameters: dict[str, Any]


@dataclass
class ParametersFailed(WorkerMessage):
    app_id: str
    message: str


@dataclass
class AppsRefreshed(WorkerMessage):
    apps: list[AppInfo]


@dataclass
class AppsRefreshFailed(WorkerMessage):
    message: str


# -- conversations (the conversation list, and a conversation's earlier messages) -------------------


@dataclass
class ConversationsPage(WorkerMessage):
    """The next page of the app's conversations on Dify (newest first), none listed before."""

    app_id: str
    conversations: list[Conversation]
    more: bool


@dataclass
class ConversationsFailed(WorkerMessage):
    app_id: str
    message: str
    #: Dify no longer knows the conversation the next page starts after (deleted meanwhile)
    cursor_gone: bool = False


@dataclass
class ConversationChanged(WorkerMessage):
    """A rename (``renamed`` is the new record) or a delete (``renamed`` None) went through, or
    failed (``error``; ``gone``: Dify no longer has the conversation)."""

    conversation_id: str
    renamed: Conversation | None = None
    error: str = ""
    gone: bool = False


@dataclass
class MessagesPage(WorkerMessage):
    """Earlier messages of a conversation, newest first, none given before by ``pager``."""

    conversation_id: str
    pager: MessagePager
    messages: list[HistoryMessage]
    more: bool


@dataclass
class MessagesFailed(WorkerMessage):
    conversation_id: str
    pager: MessagePager
    message: str
    #: Dify no longer has the conversation (deleted elsewhere)
    gone: bool = False
    #: the workspace cannot list history at all (account API)
    unavailable: bool = False


@dataclass
class FeedbackSaved(WorkerMessage):
    """Dify took a rating (None: cleared) for ``message_id``."""

    message_id: str
    rating: str | None
    comment: str | None = None


@dataclass
class FeedbackFailed(WorkerMessage):
    """The rating could not be saved: ``text`` says why (404: the message is gone)."""

    message_id: str
    text: str


@dataclass
class SuggestionsLoaded(WorkerMessage):
    """Questions to ask next after the answer ``message_id`` (none when the app gives none)."""

    message_id: str
    questions: list[str]


# -- Human Input (a paused run's forms) ---------------------------------------------------------------


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
