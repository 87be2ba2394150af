"""Chat interface (chatbot, agent, chatflow): form, conversation, prompt; keeps the conversation id."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Markdown, Static

from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.keys import EXPORT, NEW_CHAT, RAW, SUGGESTIONS
from difytui.tui.models import RunRequest
from difytui.tui.run_controller import ActiveRun
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.agent_steps import AgentSteps, paragraph_break
from difytui.tui.widgets.pane import AppPane
from difytui.tui.widgets.prompt import Prompt
from difytui.tui.widgets.response_log import AnswerView, UserTurn
from difytui.tui.widgets.timeline import NodeTimeline


class SuggestedQuestion(Button):
    """Asks its question: click, Enter on it, or alt+<its number> from anywhere in the pane."""

    def __init__(self, question: str, number: int) -> None:
        label = Content.assemble((f"alt+{number} ", "dim"), one_line(question))
        super().__init__(label, compact=True, classes="suggested")
        self.question = question


class ChatPane(AppPane):
    BINDINGS: ClassVar[list[BindingType]] = [NEW_CHAT, RAW, EXPORT, *SUGGESTIONS]
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
        if self.conversation_id:
            self.run_worker(
                runner.load_history(self.ctx.client, self.item.id, self.conversation_id, self.post_message),
                name="loading the conversation",
                group="history",
                exclusive=True,
                exit_on_error=False,
            )

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
            widgets.append(Markdown(clean(opening), classes="opening"))
        if questions and not self.conversation_id:  # a conversation under way has moved on
            numbered = enumerate(questions, start=1)
            widgets.append(Vertical(*(SuggestedQuestion(q, n) for n, q in numbered), classes="suggestions"))
        if widgets:
            log = self.log_view
            if log.children:
                await log.mount_all(widgets, before=0)
            else:
                await log.add(*widgets)

    @on(m.HistoryLoaded)
    async def _history(self, message: m.HistoryLoaded) -> None:
        if message.conversation_id != self.conversation_id or self._sent_turns:
            return
        if message.unavailable:
            note = Text(f"— {message.unavailable} —", style="dim")
            await self.log_view.add(Static(note, classes="history-sep"))
            return
        widgets: list[Widget] = [
            Static(Text("— earlier in this conversation —", style="dim"), classes="history-sep")
        ]
        for item in message.messages:
            if item.get("query"):
                widgets.append(UserTurn(str(item["query"])))
            if item.get("answer"):
                widgets.append(Markdown(clean(item["answer"]), classes="history-answer"))
        await self.log_view.add(*widgets)
        await self.show_history_forms(message.messages, self.conversation_id)

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
        # Failed or stopped before Dify ended it: never lose what the user typed. Put the message
        # back unless they already typed a new one.
        if finished is None and not self.prompt.text.strip():
            self.prompt.text = run.request.query
            self.prompt.move_cursor(self.prompt.document.end)

    def retry_hint(self, run: ActiveRun, code: str) -> str:
        if code == "not_found" and run.request.conversation_id:
            return (
                "The conversation may be gone: ctrl+n starts a new one. Your message is back in the prompt."
            )
        return "Your message is back in the prompt: Enter or ctrl+r sends it again."

    def action_new_conversation(self) -> None:
        """ctrl+n: forget the conversation id (stopping a run in progress); the next message starts one."""
        if self.runs.running:
            self.action_stop()
        self.conversation_id = None
        self._sent_turns = 0
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
