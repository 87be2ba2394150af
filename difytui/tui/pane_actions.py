"""Opening an app's pane, and the keys and palette entries that act on the pane on screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.widgets import ContentSwitcher

from difytui.tui.app_list_refresh import AppListRefresh
from difytui.tui.models import PaneContext
from difytui.tui.safe_text import clean, one_line
from difytui.tui.startup import pane_class
from difytui.tui.widgets.app_list import AppList

if TYPE_CHECKING:
    from difytui.tui.run_recording import RunRecorder
    from difytui.tui.widgets.pane import AppPane


class PaneActions(AppListRefresh):
    """One pane per opened app, in the #panes switcher; the shell's keys route to the one on screen."""

    # Set by DifyConsole.__init__.
    panes: dict[str, AppPane]
    run_recorder: RunRecorder
    # SessionMemory's: the form as the last session left it, and its fold.
    saved_draft: Callable[[str], dict[str, Any]]
    restore_pane: Callable[[AppPane, Any], Awaitable[None]]

    def reveal_sidebar(self, reveal: bool = True) -> None:
        """Overridden by the console (it owns the sidebar)."""

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
            draft = self.saved_draft(app_id)
            ctx = PaneContext(
                self.client, self.store, self.ws_key, self.store_writer, draft, self.run_recorder
            )
            pane = cls(item, ctx, id=f"pane-{len(self.panes)}")
            pane.want_focus = True
            self.panes[app_id] = pane
            mounted = switcher.mount(pane)
            switcher.current = pane.id
            self.query_one("#welcome").display = False  # the switcher takes its place for good
            switcher.display = True
            self.call_later(self.restore_pane, pane, mounted)  # its form folded as last left
        else:
            switcher.current = pane.id
            pane.focus_first()
        self.reveal_sidebar(False)  # focus moves to the pane: a narrow terminal gives it the room

    @property
    def current_pane(self) -> AppPane | None:
        if not self.panes:  # also spares importing the panes' modules before one is opened
            return None
        from difytui.tui.widgets.pane import AppPane

        switcher = self.query_one("#panes", ContentSwitcher)
        widget = switcher.visible_content
        return widget if isinstance(widget, AppPane) else None

    def action_run(self) -> None:
        """ctrl+r outside a pane (the app list, the welcome): run the open app, never the highlighted
        one: Enter opens that. A pane whose form failed to load retries it."""
        pane = self.current_pane
        if pane is None:
            self.notify("Open an app first (Enter on the list).", severity="warning")
            return
        pane.action_run()

    def action_log_page(self, direction: int) -> None:
        pane = self.current_pane
        if pane is not None:
            log = pane.log_view
            if direction > 0:
                log.scroll_page_down()
            else:
                log.release_anchor()  # stop following new text until the user is back at the bottom
                log.scroll_page_up()

    # The palette's entries for the panes' keys: they act on the pane on screen.

    def run_current_pane(self) -> None:
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
        which = "last"
        selected = getattr(pane, "selected_answer", None)  # a chat's answers can be picked (alt+up)
        if selected is not None:
            picked, is_last = selected()
            text, which = (picked or text), ("last" if is_last else "selected")
        if not text:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(text)
        self.notify(f"Copied the {which} answer ({len(text)} characters).", timeout=3)

    def action_copy_conversation(self) -> None:
        from difytui.tui.widgets.chat_pane import ChatPane

        pane = self.current_pane
        conversation = pane.conversation_id if isinstance(pane, ChatPane) else None
        if not conversation:
            self.notify("No conversation yet.", severity="warning")
            return
        self.copy_to_clipboard(conversation)
        self.notify(f"Copied conversation id {clean(conversation)}.", timeout=3, markup=False)
