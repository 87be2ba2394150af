"""The application shell: sidebar + one pane per opened app, bindings, keymap, command palette.

The shell owns the client, the state store and the app list refresh; panes own their runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
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

import difytui
from difytui.tui.commands import DifyCommands
from difytui.tui.models import AppItem, PaneContext
from difytui.tui.safe_text import clean, one_line
from difytui.tui.screens.help import HelpScreen, binding_rows, help_bindings
from difytui.tui.store_writer import StoreWriter
from difytui.tui.widgets.app_list import AppList

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.config import Workspace
    from difytui.store import Store
    from difytui.tui import messages as m
    from difytui.tui.widgets.pane import AppPane

#: How long leaving the console waits for Dify's answers to its stop requests.
STOP_TIMEOUT = 3.0


def pane_class(interface: str | None) -> type[AppPane] | None:
    """The pane for an interface. Imported on first use: the panes pull in Markdown, markdown_it
    and pygments, which the first frame does not need (tests/test_import_hygiene.py)."""
    if interface == "chat":
        from difytui.tui.widgets.chat_pane import ChatPane

        return ChatPane
    if interface == "workflow":
        from difytui.tui.widgets.workflow_pane import WorkflowPane

        return WorkflowPane
    if interface == "completion":
        from difytui.tui.widgets.completion_pane import CompletionPane

        return CompletionPane
    return None


def styles_dir() -> Path:
    """Installed wheels ship styles/ inside the package; editable installs use the repo's styles/."""
    package = Path(difytui.__file__).parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    return package / "styles"


class DifyConsole(App[Any]):
    TITLE = "difytui"
    #: The first frame's rules only; LATE_STYLES (the panes', the import screens') are read after it.
    CSS_PATH: ClassVar[list[Any]] = [styles_dir() / "shell.tcss"]
    LATE_STYLES: ClassVar[tuple[str, ...]] = ("app.tcss", "import.tcss")
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
        self._streams = 0
        self._gc_thresholds: tuple[int, int, int] | None = None
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

    def _initial_apps(self) -> list[AppItem]:
        """The first frame never waits on the network: cached entries, else bare ids."""
        cached = {a.get("id"): a for a in self.store.cached_apps(self.ws_key)}
        if not self.workspace.apps:  # an account workspace: the server lists its apps
            return [AppItem.from_any(app) for app in cached.values()]
        return [
            AppItem.from_any(cached[app_id]) if app_id in cached else AppItem(app_id, app_id)
            for app_id, entry in self.workspace.apps.items()
            if not entry.deleted
        ]

    @property
    def client(self) -> AsyncDify:
        """The Dify client; normally built in a thread right after the first frame (_build_client)."""
        return self._client if self._client is not None else self._build_client()

    def _build_client(self) -> AsyncDify:
        with self._client_lock:  # the thread and an early user action must not build two
            if self._client is None:
                from difytui.client import AsyncDify

                self._client = AsyncDify(workspace=self.workspace)
            return self._client

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

    def load_late_styles(self) -> None:
        """Read the sheets the first frame did without; called after it, and before anything that
        needs them (a pane, a modal) in case that comes first. Parsing them took ~10 ms of start-up."""
        paths = [os.path.abspath(styles_dir() / name) for name in self.LATE_STYLES]  # as read() keys them
        missing = [path for path in paths if not self.stylesheet.has_source(path)]
        if not missing:
            return
        for path in missing:
            self.stylesheet.read(path)
        self.stylesheet.reparse()
        self.stylesheet.update(self)

    def stream_started(self) -> None:
        """A run began streaming. Full (generation 2) collections scan every tracked object and
        took 20–60 ms here, long enough to stall a stream visibly; like Textual's own
        PAUSE_GC_ON_SCROLL, postpone them while answers stream. Young generations still run."""
        self._streams += 1
        if self._streams == 1 and self._gc_thresholds is None:  # else: not restored yet
            self._gc_thresholds = gc.get_threshold()
            gen0, gen1, _gen2 = self._gc_thresholds
            gc.set_threshold(gen0, gen1, 1_000_000)

    def stream_ended(self) -> None:
        """The pane says so before it renders the answer's end: full collections come back only
        after that render is drawn, and with no ``gc.collect()`` of their own (one scans every
        object on the loop; the collector runs its next full pass when its thresholds say)."""
        self._streams = max(0, self._streams - 1)
        if self._streams == 0:
            self.call_after_refresh(self._restore_gc)

    def _restore_gc(self) -> None:
        if self._streams == 0 and self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None

    async def on_unmount(self) -> None:
        # stream_ended() never runs for a run cut short by exit: put the collector back as it was,
        # and unfreeze so the next console (switching workspace) or the caller starts clean.
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None
        self._streams = 0
        gc.unfreeze()
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

    # -- app list ----------------------------------------------------------------------------

    @property
    def app_list(self) -> AppList:
        return self.query_one(AppList)

    def app_items(self) -> list[AppItem]:
        apps = self.app_list.apps
        return [apps[i] for i in self.app_list.order]

    def workspace_names(self) -> list[str]:
        return self._workspaces

    def refresh_apps(self) -> None:
        self.app_list.set_status("refreshing…")
        self.run_worker(
            self._refresh_apps(),
            name="app list refresh",
            group="apps",
            exclusive=True,
            exit_on_error=False,
        )

    async def _refresh_apps(self) -> None:
        client = self._client or await asyncio.to_thread(self._build_client)
        from difytui.tui import runner  # with the messages: not needed for the first frame

        await runner.refresh_apps(client, self.post_message)

    # Handlers by name, not @on(m.…): the messages module need not load before the first frame.
    def on_apps_refreshed(self, message: m.AppsRefreshed) -> None:
        current = self.app_list.apps
        items: list[AppItem] = []
        failures = []
        for info in message.apps:
            item = AppItem.from_any(info)
            if item.error:
                failures.append(item.error)
                known = current.get(item.id)
                if known is not None and known.mode:
                    item = AppItem(known.id, known.name, known.mode, known.description, item.error)
            items.append(item)
        self.app_list.set_apps(items)
        self.store_writer.set_cached_apps(self.ws_key, [i.to_dict() for i in items if i.mode])
        if failures:
            self.app_list.set_status(f"{len(failures)} app(s) unavailable: {failures[0]}")
        else:
            self.app_list.set_status(f"{len(items)} apps")

    def on_apps_refresh_failed(self, message: m.AppsRefreshFailed) -> None:
        self.app_list.set_status(f"cannot refresh: {message.message}")

    @on(AppList.Chosen)
    def _chosen(self, message: AppList.Chosen) -> None:
        self.open_app(message.app_id)

    def open_app(self, app_id: str) -> None:
        item = self.app_list.apps.get(app_id)
        if item is None:
            return
        switcher = self.query_one("#panes", ContentSwitcher)
        pane = self.panes.get(app_id)
        if pane is None:
            cls = pane_class(item.interface)
            if cls is None:
                reason = item.error or "its mode is not known yet (the app list is still loading)"
                self.notify(
                    f"Cannot open {one_line(item.name)}: {clean(reason)}", severity="error", markup=False
                )
                return
            self.load_late_styles()
            ctx = PaneContext(self.client, self.store, self.ws_key, self.store_writer)
            pane = cls(item, ctx, id=f"pane-{len(self.panes)}")
            pane.want_focus = True
            self.panes[app_id] = pane
            switcher.mount(pane)
            switcher.current = pane.id
            return
        switcher.current = pane.id
        pane.focus_first()

    @property
    def current_pane(self) -> AppPane | None:
        if not self.panes:  # also spares importing the panes' modules before one is opened
            return None
        from difytui.tui.widgets.pane import AppPane

        switcher = self.query_one("#panes", ContentSwitcher)
        widget = switcher.visible_content
        return widget if isinstance(widget, AppPane) else None

    # -- actions -------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#app-filter").focus()

    def action_run(self) -> None:
        """ctrl+r from the app list (a pane binds its own): open the highlighted app, or run it
        when it is the one on screen (its form may have failed to load: running retries it)."""
        app_id = self.app_list.highlighted_app
        if app_id is None:
            self.notify("Open an app first (Enter on the list).", severity="warning")
            return
        pane = self.panes.get(app_id)
        if pane is not None and pane is self.current_pane:
            pane.action_run()
        else:
            self.open_app(app_id)

    def action_log_page(self, direction: int) -> None:
        pane = self.current_pane
        if pane is not None:
            log = pane.log_view
            if direction > 0:
                log.scroll_page_down()
            else:
                log.release_anchor()  # stop following new text until the user is back at the bottom
                log.scroll_page_up()

    def action_stop(self) -> None:
        """Escape outside a pane, or on a pane with no run to stop: back to the app list."""
        if self.screen is not self.screen_stack[0]:
            return  # a modal without its own Escape binding: nothing here to focus
        self.query_one("#app-options").focus()

    # The palette's entries for the panes' keys: they act on the pane on screen.

    def run_current_pane(self) -> None:
        pane = self.current_pane
        if pane is not None:
            pane.action_run()
        else:
            self.action_run()

    def action_new_conversation(self) -> None:
        from difytui.tui.widgets.chat_pane import ChatPane

        pane = self.current_pane
        if isinstance(pane, ChatPane):
            pane.action_new_conversation()
        else:
            self.notify("New conversation works in chat apps.", severity="warning")

    def action_toggle_raw(self) -> None:
        pane = self.current_pane
        if pane is None:
            self.notify("Open an app first.", severity="warning")
            return
        pane.action_toggle_raw()

    def action_copy_answer(self) -> None:
        pane = self.current_pane
        text = pane.last_answer if pane is not None else ""
        if not text:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(text)
        self.notify(f"Copied the last answer ({len(text)} characters).", timeout=3)

    def action_copy_conversation(self) -> None:
        from difytui.tui.widgets.chat_pane import ChatPane

        pane = self.current_pane
        conversation = pane.conversation_id if isinstance(pane, ChatPane) else None
        if not conversation:
            self.notify("No conversation yet.", severity="warning")
            return
        self.copy_to_clipboard(conversation)
        self.notify(f"Copied conversation id {clean(conversation)}.", timeout=3, markup=False)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(binding_rows(help_bindings(self.BINDINGS), self.user_keymap)))

    # -- leaving -------------------------------------------------------------------------------

    async def stop_runs(self) -> None:
        """Stop every streaming run as Escape would (close the stream, call the stop endpoint):
        leaving the console must not leave Dify generating for nobody."""
        stops = [pane.stop_for_exit() for pane in self.panes.values()]
        # An unreachable Dify must not keep the console open; the streams are closed anyway.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*stops), STOP_TIMEOUT)

    async def leave(self, result: Any = None) -> None:
        await self.stop_runs()
        self.exit(result)

    async def action_quit(self) -> None:
        await self.leave()

    def switch_workspace(self, name: str) -> None:
        self.call_later(self.leave, ("workspace", name))

    def action_import_console(self) -> None:
        from difytui.tui.screens.import_console import ImportConsoleScreen, ImportOutcome, ImportResultScreen

        def reopen(confirmed: bool | None, outcome: ImportOutcome) -> None:
            if confirmed:
                self.call_later(self.leave, ("workspace", outcome.workspace, outcome.config_path))

        def imported(outcome: ImportOutcome | None) -> None:
            if outcome is None:
                return
            # The lines say what was skipped and where keys must go: the user reads them first.
            self.push_screen(ImportResultScreen(outcome), lambda ok: reopen(ok, outcome))

        name = self.workspace.name if self.workspace.source not in ("demo", "environment") else None
        self.load_late_styles()
        self.push_screen(ImportConsoleScreen(self.config_path, name), imported)
