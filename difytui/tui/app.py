"""The application shell: sidebar + one pane per opened app, bindings, keymap, command palette.

The shell owns the client, the state store and the app list refresh; panes own their runs. Its parts:
startup (what waits until after the first frame), app_list_refresh, pane_actions, workspace_actions.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Static
from textual.worker import Worker, WorkerState

from difytui.tui.bench_actions import OPEN_TESTS, SAVE_CASE, BenchActions
from difytui.tui.commands import DifyCommands
from difytui.tui.gc_policy import GcPolicy
from difytui.tui.pane_actions import PaneActions
from difytui.tui.safe_text import one_line
from difytui.tui.screens.help import HelpScreen, binding_rows, help_bindings
from difytui.tui.startup import styles_dir
from difytui.tui.store_writer import StoreWriter
from difytui.tui.widgets.app_list import AppList
from difytui.tui.workspace_actions import WorkspaceActions

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.config import Workspace
    from difytui.store import Store
    from difytui.tui.widgets.pane import AppPane


class DifyConsole(PaneActions, WorkspaceActions, BenchActions):
    TITLE = "difytui"
    #: The first frame's rules only; LATE_STYLES (the panes', the import screens') are read after it.
    CSS_PATH: ClassVar[list[Any]] = [styles_dir() / "shell.tcss"]
    COMMANDS = App.COMMANDS | {DifyCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter apps", key_display="/", id="apps.filter"),
        # The panes bind these ids too (and chat.new, log.raw): here they serve the app list.
        Binding("ctrl+r", "run", "Run/send", id="app.run"),
        Binding("escape", "stop", "Stop / back", id="app.stop"),
        # priority: TextArea binds ctrl+y to redo.
        Binding("ctrl+y", "copy_answer", "Copy answer", id="answer.copy", priority=True),
        Binding("pageup", "log_page(-1)", "Scroll up", id="log.page_up", show=False),
        Binding("pagedown", "log_page(1)", "Scroll down", id="log.page_down", show=False),
        Binding("f1", "help", "Help", id="help"),
        OPEN_TESTS,  # after F1: a narrow footer drops these before Help
        SAVE_CASE,
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        client: AsyncDify | None = None,
        store: Store | None = None,
        keymap: dict[str, str] | None = None,
        workspaces: list[str] | None = None,
        config_path: Path | None = None,
    ) -> None:
        super().__init__()
        from difytui.store import Store, workspace_key

        self.workspace = workspace
        # Built after the first frame, off the loop (see client): importing httpx and loading the
        # CA bundle for its SSL context take ~80 ms.
        self._client: AsyncDify | None = client
        self._client_lock = threading.Lock()
        # A store handed in belongs to the caller (tests reuse one across restarts): only close ours.
        self._owns_store = store is None
        self.store = store if store is not None else Store()
        self.store_writer = StoreWriter(self.store)
        self.ws_key = workspace_key(workspace)
        self.user_keymap = dict(keymap or {})
        self._workspaces = list(workspaces or [workspace.name])
        self.config_path = config_path
        self.panes: dict[str, AppPane] = {}
        self.gc_policy = GcPolicy(self)
        self.sub_title = workspace.name

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                title = Text("difytui", style="bold")
                title.append(f"  {one_line(self.workspace.name)}", style="dim")
                yield Static(title, id="brand", markup=False)
                yield AppList(self._initial_apps(), id="apps")
            with ContentSwitcher(id="panes", initial="welcome"):
                yield Static(self._welcome(), id="welcome", markup=False)
        # The Footer comes after the first frame (on_ready): its keys only show once mounted anyway.

    def _welcome(self) -> Text:
        text = Text()
        text.append("Pick an app on the left", style="bold")
        text.append(" (↑/↓ and Enter, or type to filter).\n\n")
        text.append("ctrl+r runs or sends · Escape stops · ctrl+n new conversation · ctrl+t raw events\n")
        text.append("ctrl+y copies the last answer · F1 lists every key · ctrl+p command palette")
        text.append(f"\n\nWorkspace {one_line(self.workspace.name)}", style="dim")
        return text

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.query_one("#app-options").focus()

    def on_ready(self) -> None:
        # Startup objects (modules, styles, the widget tree) live as long as the app: keep the
        # cyclic collector from scanning them again and again (gc.freeze). run() kept it off until
        # this first frame.
        gc.freeze()
        gc.enable()
        # Only the first frame sits on the start-up path: it shows the cached app list, the server's
        # comes after (building the client, and the demo simulator's start, happen on this request).
        self.refresh_apps()
        self.mount(Footer())
        self.call_after_refresh(self.load_late_styles)

    def stream_started(self) -> None:
        """A run began streaming: full collections wait (:mod:`.gc_policy`)."""
        self.gc_policy.stream_started()

    def stream_ended(self) -> None:
        """The pane says so before it renders the answer's end."""
        self.gc_policy.stream_ended()

    async def on_unmount(self) -> None:
        # stream_ended() never runs for a run cut short by exit: put the collector back as it was,
        # and unfreeze so the next console (switching workspace) or the caller starts clean.
        self.gc_policy.close()
        if self._client is not None:
            await self._client.aclose()
        self.store_writer.close()
        if self._owns_store:
            self.store.close()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Safety net: a worker that raised despite runner's own handling becomes a notice.

        Every worker runs with exit_on_error=False, so a bug in one never takes the console down
        (nor prints Textual's crash dump, whose locals could include a key). Panes handle their
        own runs and stop the event; this catches the rest (app list, import, stop requests).
        """
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        from difytui.tui import runner

        text = runner.describe_error(error)[0] if error is not None else "unknown error"
        name = one_line(event.worker.name or event.worker.group or "a background task")
        self.notify(f"{name} failed: {text}", severity="error", markup=False, timeout=8)

    # -- actions -------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#app-filter").focus()

    def action_stop(self) -> None:
        """Escape outside a pane, or on a pane with no run to stop: back to the app list."""
        if self.screen is not self.screen_stack[0]:
            return  # a modal without its own Escape binding: nothing here to focus
        self.query_one("#app-options").focus()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(binding_rows(help_bindings(self.BINDINGS), self.user_keymap)))
