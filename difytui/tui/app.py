"""The application shell: sidebar + one pane per opened app, bindings, keymap, command palette.

The shell owns the client, the state store and the app list refresh; panes own their runs. Its parts:
startup (what waits until after the first frame), app_list_refresh, pane_actions, workspace_actions.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static
from textual.worker import Worker, WorkerState

from difytui.tui.bench_actions import OPEN_TESTS, SAVE_CASE, BenchActions
from difytui.tui.commands import DifyCommands
from difytui.tui.gc_policy import GcPolicy
from difytui.tui.keys import OPEN_RUNS, PAGE_DOWN, PAGE_UP, RUN, STOP
from difytui.tui.pane_actions import PaneActions
from difytui.tui.run_recording import RunRecorder
from difytui.tui.runs_actions import RunsActions
from difytui.tui.safe_text import one_line
from difytui.tui.startup import styles_dir
from difytui.tui.store_writer import StoreWriter
from difytui.tui.widgets.app_list import AppList
from difytui.tui.workspace_actions import WorkspaceActions

if TYPE_CHECKING:
    from textual.driver import Driver

    from difytui.client import AsyncDify
    from difytui.config import Workspace
    from difytui.store import Store
    from difytui.tui.widgets.pane import AppPane


#: Below this many columns the sidebar steps aside while an app is open (ctrl+b brings it back).
SIDEBAR_AUTO_HIDE_BELOW = 100


COPY_TIP = "Copy the selected answer, the last by default (OSC 52)"


class DifyConsole(PaneActions, WorkspaceActions, BenchActions, RunsActions):
    TITLE = "difytui"
    #: The first frame's rules only; LATE_STYLES (the panes', the import screens') are read after it.
    CSS_PATH: ClassVar[list[Any]] = [styles_dir() / "shell.tcss"]
    COMMANDS = App.COMMANDS | {DifyCommands}
    ENABLE_COMMAND_PALETTE = True

    # Short descriptions fit every key that matters in an 80-column footer (tests/tui/test_layout.py);
    # the tooltips say more, on F1 and in the README's table (tests/tui/test_help_keys.py).
    BINDINGS: ClassVar[list[BindingType]] = [
        # The panes bind these ids too (and chat.new, log.raw): here they serve the app list.
        Binding("ctrl+r", "run", "Run", id="app.run", tooltip=RUN.tooltip),
        Binding("escape", "stop", "Stop", id="app.stop", tooltip=STOP.tooltip),
        # priority: TextArea binds ctrl+y to redo.
        Binding("ctrl+y", "copy_answer", "Copy", id="answer.copy", priority=True, tooltip=COPY_TIP),
        # priority: F1 reaches every view (the Tests view's own keys are listed first there).
        Binding("f1", "help", "Help", id="help", priority=True, tooltip="Every key with its binding id"),
        # ctrl+l reaches the filter from a text field too, where "/" is just a character.
        Binding("ctrl+l", "focus_filter", "Filter", id="apps.filter", tooltip="Filter the app list"),
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            id="apps.filter.slash",
            show=False,
            tooltip="Filter the app list (outside a text field)",
        ),
        Binding(
            "ctrl+b",
            "toggle_sidebar",
            "Sidebar",
            id="app.sidebar",
            show=False,
            tooltip=f"Hide or show the app list (it steps aside below {SIDEBAR_AUTO_HIDE_BELOW} columns)",
        ),
        # The prompt binds these too (a few lines high, it would scroll itself).
        Binding("pageup", "log_page(-1)", "Scroll up", id="log.page_up", show=False, tooltip=PAGE_UP.tooltip),
        Binding(
            "pagedown",
            "log_page(1)",
            "Scroll down",
            id="log.page_down",
            show=False,
            tooltip=PAGE_DOWN.tooltip,
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, tooltip="Quit difytui"),
        OPEN_TESTS,  # last: a narrow footer drops these before the keys above
        SAVE_CASE,
        OPEN_RUNS,
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
        self.run_recorder = RunRecorder(
            self.store_writer, workspace_key(workspace), settings=getattr(workspace, "records", None)
        )
        self.run_marks: list[str] = []
        self.ws_key = workspace_key(workspace)
        self.user_keymap = dict(keymap or {})
        self._workspaces = list(workspaces or [workspace.name])
        self.config_path = config_path
        self.panes: dict[str, AppPane] = {}
        self.gc_policy = GcPolicy()
        self.sub_title = workspace.name
        self._sidebar_choice: bool | None = None  # ctrl+b's last word; None: by width
        self._sidebar_revealed = False  # shown for a key that focuses it (ctrl+l, Escape)

    def get_driver_class(self) -> type[Driver]:
        driver_class = super().get_driver_class()
        from difytui.tui.terminal_keys import use_alt_aware_parser

        use_alt_aware_parser(driver_class.__module__)  # alt+enter from xterm/tmux (ESC CR)
        return driver_class

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Straight on the screen, side by side (.shell), in no container: each widget on screen
        # draws its whole area at every full paint, covered or not. The panes' switcher shows with
        # the first app opened (PaneActions.open_app), in the welcome's place.
        # Spans, not a whole-text style (AppList._show_status says why).
        title = Text.assemble(("difytui", "bold"), (f"  {one_line(self.workspace.name)}", "bold dim"))
        yield AppList(self._initial_apps(), title=title, id="sidebar")
        yield Static(self._welcome(), id="welcome", markup=False)
        yield ContentSwitcher(id="panes")
        # The Footer comes after the first frame (on_ready): its keys only show once mounted anyway.

    def _welcome(self) -> Text:
        text = Text()
        text.append("Pick an app on the left", style="bold")
        text.append(" (↑/↓ and Enter, or type to filter).\n\n")
        text.append("ctrl+r runs or sends · Escape stops · ctrl+n new conversation · ctrl+t raw events\n")
        text.append("ctrl+y copies the last answer · ctrl+l filters the apps · ctrl+b hides this list\n")
        text.append("F2 conversations · F3 recorded runs\n")
        text.append("F1 lists every key · ctrl+p command palette")
        text.append(f"\n\nWorkspace {one_line(self.workspace.name)}", style="dim")
        return text

    def get_default_screen(self) -> Screen[Any]:
        screen: Screen[Any] = Screen(id="_default", classes="shell")
        # The first focus goes straight to the app list: Textual's "*" focused the filter box, and
        # moving on restyled it three times (focus, blur, validation: ~2.5 ms of start-up).
        screen.AUTO_FOCUS = "#app-options"
        return screen

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.query_one("#app-options").focus()
        self.screen_stack[0].AUTO_FOCUS = None  # later on, as Textual does (the app's "*")

    def on_ready(self) -> None:
        # Startup objects (modules, styles, the widget tree) live as long as the app: keep the
        # cyclic collector from scanning them again and again (gc.freeze, undone on unmount).
        self.gc_policy.first_frame()
        # Only the first frame sits on the start-up path: it shows the cached app list, the server's
        # comes after (building the client, and the demo simulator's start, happen on this request).
        self.refresh_apps()
        self.mount(Footer(compact=True))
        self.call_after_refresh(self.load_late_styles)

    def stream_started(self) -> None:
        """A run began streaming: the app built so far is frozen, once (:mod:`.gc_policy`)."""
        self.gc_policy.stream_started()

    async def on_unmount(self) -> None:
        # Unfreeze, so the next console (switching workspace) or the caller starts clean.
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
        if self.screen is not self.screen_stack[0]:
            return  # the filter is under a modal
        self.reveal_sidebar()
        self.query_one("#app-filter").focus()

    def action_stop(self) -> None:
        """Escape outside a pane, or on a pane with no run to stop: back to the app list."""
        if self.screen is not self.screen_stack[0]:
            return  # a modal without its own Escape binding: nothing here to focus
        self.reveal_sidebar()
        self.query_one("#app-options").focus()

    # -- the sidebar -------------------------------------------------------------------------------

    def sidebar_visible(self) -> bool:
        """Shown for the keys that focus it; else as ctrl+b last left it; else it steps aside for
        an open app in a narrow terminal."""
        if self._sidebar_revealed:
            return True
        if self._sidebar_choice is not None:
            return self._sidebar_choice
        return self.size.width >= SIDEBAR_AUTO_HIDE_BELOW or self.current_pane is None

    def update_sidebar(self) -> None:
        self.query_one("#sidebar").display = self.sidebar_visible()

    def reveal_sidebar(self, reveal: bool = True) -> None:
        self._sidebar_revealed = reveal
        self.update_sidebar()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        self._sidebar_revealed = False
        self._sidebar_choice = not sidebar.display
        if not self._sidebar_choice and sidebar.has_focus_within:
            pane = self.current_pane  # a hidden widget keeps no focus: hand it to the open app
            if pane is not None:
                pane.focus_first()
            else:
                self.screen.set_focus(None)
        self.update_sidebar()

    def on_resize(self) -> None:
        self.update_sidebar()

    def action_help(self) -> None:
        from difytui.tui.screens.help import HelpScreen, help_rows, view_keys  # not before the first frame

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        view = view_keys(self.screen, self.user_keymap)
        self.push_screen(HelpScreen(help_rows(self.BINDINGS, self.user_keymap), view))
