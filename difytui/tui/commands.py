"""Command-palette entries for the main actions (and one per app, to switch to it), and Textual's
own entries as the console needs them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.screen import Screen

from difytui.tui.safe_text import one_line

if TYPE_CHECKING:
    from difytui.tui.app import DifyConsole


class DifyCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app: DifyConsole = self.app  # type: ignore[assignment]
        pane = app.current_pane
        chat = pane is not None and pane.interface == "chat"
        if chat:  # a workflow or a text generator has no conversation
            yield "New conversation", app.action_new_conversation, "Start a fresh chat (ctrl+n)"
            yield (
                "Conversations…",
                partial(pane.run_action, "conversations"),
                "The app's conversations: open one to continue it, rename, delete (f2)",
            )
        yield "Toggle raw events", app.action_toggle_raw, "Show every event as JSON (ctrl+t)"
        yield "Copy last answer", app.action_copy_answer, "Copy to the clipboard (ctrl+y)"
        if chat:
            yield "Copy conversation id", app.action_copy_conversation, "The current chat's conversation id"
            yield (
                "Export…",
                partial(_export_conversation, app),
                "The conversation, to Markdown or JSON (ctrl+o)",
            )
            yield from _answer_commands(pane)
        yield "Run / send", app.run_current_pane, "Run the open app or send the message (ctrl+r)"
        yield (
            "Pending forms",
            partial(_pending_forms, app),
            "Paused runs waiting for a person's form (Human Input): open one",
        )
        yield "Refresh app list", app.refresh_apps, "Ask Dify for each app's name and mode again"
        yield "Tests", app.action_open_tests, "The open app's test cases: run, results, diffs (ctrl+g)"
        yield "Save as test case", app.action_save_case, "The chat or last run, into cases_dir (ctrl+s)"
        yield "Runs", app.action_open_runs, "The open app's recorded runs: open, re-run, compare (F3)"
        yield "Help: keys", app.action_help, "All bindings with their ids (F1)"
        yield (
            "Import apps from Dify console…",
            app.action_import_console,
            "Log in to the console, pick apps, reuse or create their API keys",
        )
        for item in app.app_items():
            name = one_line(item.name) or item.id
            yield f"Switch app: {name}", partial(app.open_app, item.id), f"Open {item.id}"
        for name in app.workspace_names():
            if name != app.workspace.name:
                yield f"Switch workspace: {name}", partial(app.switch_workspace, name), "Reopen on it"

    def _display(self, text: str, query: str | None) -> Content:
        # Built from plain text: the fuzzy matcher's own highlight() would parse app names as markup.
        content = Content(text)
        if query:
            _score, offsets = self.matcher(query).fuzzy_search.match(query, text)
            for offset in offsets:
                if not text[offset].isspace():
                    content = content.stylize("bold underline", offset, offset + 1)
        return content

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(self._display(text, None), callback, text=text, help=Content(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, self._display(text, query), callback, text=text, help=Content(help_text))


def _answer_commands(pane: Any) -> Iterator[tuple[str, Callable[[], object], str]]:
    """The chat's answer keys (keys.ANSWER_BINDINGS): they act on the selected answer."""
    yield "Like answer", partial(pane.action_answer_rate, "like"), "Rate the selected answer 👍 (alt+l)"
    yield "Dislike answer", partial(pane.action_answer_rate, "dislike"), "Rate it 👎 (alt+d)"
    yield "Clear answer rating", partial(pane.action_answer_rate, None), "Take the rating back (alt+x)"
    yield "Comment on answer…", pane.action_answer_comment, "Like or dislike with a comment (alt+c)"
    yield "Previous answer", partial(pane.action_answer_move, -1), "Select the answer above (alt+up)"
    yield "Next answer", partial(pane.action_answer_move, 1), "Select the answer below (alt+down)"


class PendingFormsCommands(DifyCommands):
    """The second palette of "Pending forms": one entry per pending form of the workspace."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        from difytui.human_input_store import PendingForms
        from difytui.tui.human_input_actions import open_pending_form

        app: DifyConsole = self.app  # type: ignore[assignment]
        names = {item.id: one_line(item.name) or item.id for item in app.app_items()}
        for item in PendingForms(app.store).pending(app.ws_key):
            form = item.form
            title = one_line(form.node_title) or "form"
            run = one_line(form.workflow_run_id)[:8]
            text = f"{names.get(item.app_id, item.app_id)}: {title} (run {run})"
            action = partial(open_pending_form, app, item.app_id, form.form_token)
            yield text, action, f"Open {item.app_id} at this form"


def _pending_forms(app: DifyConsole) -> None:
    from textual.command import CommandPalette

    from difytui.human_input_store import PendingForms

    if not PendingForms(app.store).pending(app.ws_key):
        app.notify("No pending forms: no paused run of this workspace waits for a person.")
        return
    app.push_screen(CommandPalette(providers=[PendingFormsCommands], placeholder="Pending forms…"))


def _export_conversation(app: DifyConsole) -> None:
    from difytui.tui.export_actions import export_conversation
    from difytui.tui.widgets.chat_pane import ChatPane

    pane = app.current_pane
    if isinstance(pane, ChatPane):
        export_conversation(app, pane)


class SystemCommands(App[Any]):
    """Textual's own palette entries, with the two a newcomer tripped on replaced.

    "Screenshot" saved to ~/Downloads and, when that folder was missing, said only "Failed to save
    screenshot": ours saves to the data dir and says where, or why not. "Keys" mounted a side panel
    that Escape did not close: ours opens F1's list, which Escape closes like every palette panel.
    """

    action_help: Callable[[], None]  # the console's F1 (DifyConsole)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                yield SystemCommand(
                    "Screenshot",
                    f"Save an SVG picture of the screen in {screenshot_dir()}",
                    lambda: self.call_after_refresh(self.take_screenshot),  # once the palette is gone
                )
            elif command.title == "Keys":
                yield SystemCommand("Keys", "Every key and its binding id (F1)", self.action_help)
            else:
                yield command

    def take_screenshot(self) -> Path | None:
        """Save the screen as SVG in the data dir; the notice says where, or why it could not."""
        folder = screenshot_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = Path(self.save_screenshot(path=str(folder)))
        except OSError as error:
            reason = error.strerror or str(error)
            self.notify(
                f"Could not save the screenshot in {folder}: {reason}",
                title="Screenshot",
                severity="error",
                markup=False,
            )
            return None
        self.notify(f"Saved the screenshot to {saved}", title="Screenshot", markup=False, timeout=8)
        return saved


def screenshot_dir() -> Path:
    from difytui import paths

    return paths.data_dir() / "screenshots"
