"""Command-palette entries for the main actions (and one per app, to switch to it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from difytui.tui.safe_text import one_line

if TYPE_CHECKING:
    from difytui.tui.app import DifyConsole


class DifyCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app: DifyConsole = self.app  # type: ignore[assignment]
        yield "New conversation", app.action_new_conversation, "Start a fresh chat (ctrl+n)"
        yield "Toggle raw events", app.action_toggle_raw, "Show every event as JSON (ctrl+t)"
        yield "Copy last answer", app.action_copy_answer, "Copy to the clipboard (ctrl+y)"
        yield "Copy conversation id", app.action_copy_conversation, "The current chat's conversation id"
        yield "Run / send", app.run_current_pane, "Run the app or send the message (ctrl+r)"
        yield "Refresh app list", app.refresh_apps, "Ask Dify for each app's name and mode again"
        yield "Tests", app.action_open_tests, "The open app's test cases: run, results, diffs (ctrl+g)"
        yield "Save as test case", app.action_save_case, "The chat or last run, into cases_dir (ctrl+s)"
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
