"""Chat interface (chatbot, agent, chatflow): form, conversation, prompt; keeps the conversation id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Static

from difytui.tui import messages as m
from difytui.tui.keys import ANSWER_BINDINGS, CONVERSATIONS, EXPORT, NEW_CHAT, RAW, SUGGESTIONS
from difytui.tui.message_actions import MessageActions
from difytui.tui.models import RunRequest
from difytui.tui.run_controller import ActiveRun
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.agent_steps import AgentSteps, paragraph_break
from difytui.tui.widgets.form_fill import fill_form
from difytui.tui.widgets.history_paging import HistoryPaging
from difytui.tui.widgets.line_piece import MarkdownLines
from difytui.tui.widgets.pane import AppPane
from difytui.tui.widgets.prompt import Prompt
from difytui.tui.widgets.response_log import AnswerView, UserTurn
from difytui.tui.widgets.timeline import NodeTimeline

if TYPE_CHECKING:
    from difytui.tui.screens.conversations import ConversationEntry


class SuggestedQuestion(Button):
    """Asks its question: click, Enter on it, or alt+<its number> from anywhere in the pane."""

    def __init__(self, question: str, number: int) -> None:
        label = Content.assemble((f"alt+{number} ", "dim"), one_line(question))
        super().__init__(label, compact=True, classes="suggested")
        self.question = question


class ChatPane(HistoryPaging, MessageActions, AppPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        NEW_CHAT,
        CONVERSATIONS,
        RAW,
        EXPORT,
        *SUGGESTIONS,
        *ANSWER_BINDINGS,
    ]
    interface = "chat"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conversation_id: str | None = self.ctx.store.conversation(self.ctx.ws_key, self.item.id)
        self._sent_turns = 0

    def compose_controls(self) -> ComposeResult:
        with Horizontal(id="conversation-bar"):
            yield Static("", id="conversation", markup=False)

    def compose_bottom(self) -> ComposeResult:
        yield Prompt(id="prompt")

    @property
    def prompt(self) -> Prompt:
        return self.query_one("#prompt", Prompt)

    def main_control(self) -> Widget | None:
        return self.prompt

    def focus_target(self) -> Widget | None:
        """The prompt, unless a required input is still empty: then that field."""
        if self.form is not None:
            for row in self.form.rows:
                if row.field.required and not row.field.read_only and not (row.raw() or "").strip():
                    return row.control
        return self.prompt

    def on_mount(self) -> None:
        # (Textual also calls AppPane.on_mount: handlers run for every class in the MRO.)
        self._show_conversation()
        self.call_later(self.start_history)

    def _show_conversation(self, note: str = "") -> None:
        text = Text()
        if self.conversation_id:
            text.append("conversation ", style="dim")
            text.append(clean(self.conversation_id), style="bold")
            text.append("  (ctrl+n starts a new one)", style="dim")
        else:
            text.append("new conversation", style="italic")
        if note:
            text.append(f"  {note}", style="yellow")
        self.query_one("#conversation", Static).update(text)

    async def after_form_loaded(self) -> None:
        await self._show_opening()

    async def _show_opening(self) -> None:
        opening = str(self.parameters.get("opening_statement") or "")
        questions = [q for q in self.parameters.get("suggested_questions") or [] if isinstance(q, str)]
        widgets: list[Widget] = []
        if opening:
            widgets.append(MarkdownLines(clean(opening), classes="opening"))
        if questions and not self.conversation_id:  # a conversation under way has moved on
            numbered = enumerate(questions, start=1)
            widgets.append(Vertical(*(SuggestedQuestion(q, n) for n, q in numbered), classes="suggestions"))
        if widgets:
            log = self.log_view
            if log.children:
                await log.mount_all(widgets, before=0)
            else:
                await log.add(*widgets)

    @on(SuggestedQuestion.Pressed)
    def _suggested(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(event.button, SuggestedQuestion):
            self._ask(event.button.question)

    def action_suggest(self, index: int) -> None:
        """alt+1…alt+3: ask a suggested question shown under the opening statement."""
        questions = list(self.query(SuggestedQuestion))
        if index < len(questions):
            self._ask(questions[index].question)

    def _ask(self, question: str) -> None:
        if self.runs.running:
            self.notify("A run is in progress: Escape stops it.", severity="warning")
            return
        # Sent as it is: whatever the user is drafting in the prompt stays there.
        request = self._request_for(question)
        if request is not None:
            self.call_later(self.start_run, request)

    @on(Prompt.Submitted)
    def _submitted(self, event: Prompt.Submitted) -> None:
        event.stop()
        self.action_run()

    def build_request(self) -> RunRequest | None:
        return self._request_for(self.prompt.text.strip())

    def _request_for(self, query: str) -> RunRequest | None:
        inputs = self.collect_inputs()
        if inputs is None:
            return None
        if not query:
            self.notify("Type a message first.", severity="warning")
            self.prompt.focus()
            return None
        # Dify needs the same inputs on every turn (a follow-up without required inputs fails).
        return RunRequest(self.item.id, "chat", inputs, query=query, conversation_id=self.conversation_id)

    async def before_run(self, run: ActiveRun) -> None:
        request = run.request
        self.remember_inputs(request.inputs)
        self._sent_turns += 1
        if self.prompt.text.strip() == request.query:  # sent from the prompt (not a suggestion)
            self.prompt.text = ""
        await self._clear_suggestions()
        run.answer = AnswerView()
        await self.log_view.add(UserTurn(request.query), run.answer)
        self.log_view.anchor()

    async def _clear_suggestions(self) -> None:
        """The conversation moved on: the opening's suggestions are stale."""
        rows = self.query(".suggestions")
        if any(row.has_focus_within for row in rows):
            self.prompt.focus()
        await rows.remove()

    def conversation_seen(self, run: ActiveRun, conversation_id: str) -> None:
        sent = run.request.conversation_id
        self.conversation_id = conversation_id
        self.ctx.writer.set_conversation(self.ctx.ws_key, self.item.id, conversation_id)
        if sent and sent != conversation_id:
            # Chatflows answer an unknown conversation id by silently starting a new conversation.
            self.call_later(
                self.notice,
                f"Dify did not continue conversation {sent}: it started a new conversation "
                f"{conversation_id}. Earlier turns are not part of this one.",
                "warning",
            )
            self._show_conversation("(new: Dify did not know the previous id)")
        else:
            self._show_conversation()

    async def _mount_above_answer(self, run: ActiveRun, widget: Widget) -> None:
        if run.answer is not None:
            await self.log_view.mount(widget, before=run.answer)
        else:
            await self.log_view.add(widget)

    async def node_event(self, run: ActiveRun, event: dict[str, Any]) -> None:
        if run.timeline is None:
            run.timeline = NodeTimeline(classes="chat-timeline")
            await self._mount_above_answer(run, run.timeline)
        run.timeline.apply(event)

    async def agent_thought(self, run: ActiveRun, event: dict[str, Any]) -> None:
        if run.thought_view is None:
            run.thought_view = AgentSteps()
            await self._mount_above_answer(run, run.thought_view)
        new_tool_call = await run.thought_view.apply(event)
        # The next round's text (maybe a heading) starts its own block after the tool call.
        if new_tool_call and run.answer is not None and (gap := paragraph_break(run.answer.text)):
            await run.answer.write(gap)

    async def run_closed(self, run: ActiveRun, status: str, finished: m.RunFinished | None) -> None:
        if run.timeline is not None:
            run.timeline.finish(status)
        await self.answer_ended(run, status)
        # Failed or stopped before Dify ended it: never lose what the user typed. Put the message
        # back unless they already typed a new one.
        if finished is None and not self.prompt.text.strip():
            self.prompt.text = run.request.query
            self.prompt.move_cursor(self.prompt.document.end)

    def retry_hint(self, run: ActiveRun, code: str) -> str:
        if code == "not_found" and run.request.conversation_id:
            return (
                f"Conversation {run.request.conversation_id} no longer exists on Dify (deleted elsewhere?): "
                "ctrl+n starts a new one, f2 lists the others. Your message is back in the prompt."
            )
        return "Your message is back in the prompt: Enter or ctrl+r sends it again."

    def action_new_conversation(self) -> None:
        """ctrl+n: forget the conversation id (stopping a run in progress); the next message starts one."""
        if self.runs.running:
            self.action_stop()
        self.conversation_id = None
        self._sent_turns = 0
        self._history_pager = None
        self.ctx.writer.set_conversation(self.ctx.ws_key, self.item.id, None)
        self.call_later(self._reset_log)

    def action_export(self) -> None:
        """ctrl+o: save the conversation to a file (its path confirmed first)."""
        from difytui.tui.export_actions import export_conversation

        export_conversation(self.app, self)

    async def _reset_log(self) -> None:
        await self.log_view.remove_children()
        self.stats.display = False
        self._show_conversation()
        await self._show_opening()
        await self.notice("New conversation: the next message starts it.", "info")
        self.prompt.focus()

    # -- the conversation list (f2) -------------------------------------------------------------

    def action_conversations(self) -> None:
        """f2: the app's conversations; Enter on one continues it here."""
        from difytui.tui.screens.conversations import ConversationsScreen

        counts: dict[str, int] = {}
        if self.conversation_id and self.history_complete:  # every message of it was read
            counts[self.conversation_id] = self.history_count + self._sent_turns
        screen = ConversationsScreen(
            self.item,
            self.ctx.client,
            self.ctx.store,
            self.ctx.ws_key,
            self.conversation_id,
            self.forget,
            counts,
        )
        self.app.push_screen(screen, self._chosen)

    def _chosen(self, entry: ConversationEntry | None) -> None:
        if entry is not None:
            self.call_later(self.open_conversation, entry)

    async def open_conversation(self, entry: ConversationEntry) -> None:
        """Continue ``entry`` here: its inputs fill the form, its turns load newest first."""
        if self.runs.running:
            self.notify("A run is in progress: Escape stops it first.", severity="warning")
            return
        self.conversation_id = entry.id
        self._sent_turns = 0
        self._history_pager = None
        self.ctx.writer.set_conversation(self.ctx.ws_key, self.item.id, entry.id)
        inputs = self.ctx.store.conversation_inputs(self.ctx.ws_key, self.item.id, entry.id) or entry.inputs
        if self.form is not None and inputs:
            fill_form(self.form, inputs)
        await self.log_view.remove_children()
        self.stats.display = False
        self._show_conversation()
        await self._show_opening()
        await self.start_history()  # one Dify no longer has: its 404 says so (history_gone)
        self.prompt.focus()

    def history_gone(self, conversation_id: str, text: str) -> None:
        """Dify no longer has the conversation shown (deleted elsewhere): say so, and start afresh
        rather than let the next message open a new thread unnoticed."""
        if conversation_id != self.conversation_id:
            return
        self.conversation_id = None
        self.ctx.writer.set_conversation(self.ctx.ws_key, self.item.id, None)
        self._show_conversation("(the one opened is gone)")
        self.call_later(
            self.notice,
            f"Conversation {conversation_id} no longer exists on Dify (deleted elsewhere?): {text}. "
            "The next message starts a new conversation; f2 lists the others.",
            "warning",
        )

    def forget(self, conversation_id: str) -> None:
        """The conversation list deleted ``conversation_id``: if it is the one here, start afresh."""
        if conversation_id == self.conversation_id:
            self.action_new_conversation()
