"""The console as it was left, back on the next start: the last open app, each opened app's form
(its values as typed, folded or not) and the theme.

Saved when the console is left (every way out goes through WorkspaceActions.leave), under the
workspace's key, so a real workspace and the demo (whose key does not carry its random port) both
come back. Restored after the first frame: reopening a pane imports the panes' modules, which the
first frame does without.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from difytui.tui.startup import DeferredStartup

if TYPE_CHECKING:
    from difytui.store import Store
    from difytui.tui import messages as m
    from difytui.tui.store_writer import StoreWriter
    from difytui.tui.widgets.app_list import AppList
    from difytui.tui.widgets.pane import AppPane

#: ui_state names: the workspace's session, and the theme (a setting of no workspace: ws "").
SESSION = "session"
THEME = "theme"
SETTINGS = ""


class SessionMemory(DeferredStartup):
    # Set by DifyConsole.__init__ (and its other parts).
    store: Store
    store_writer: StoreWriter
    ws_key: str
    panes: dict[str, AppPane]
    app_list: AppList
    current_pane: AppPane | None
    open_app: Callable[[str], None]  # PaneActions
    _session: dict[str, Any] | None = None
    _reopen: str | None = None

    @property
    def saved_session(self) -> dict[str, Any]:
        if self._session is None:
            saved = self.store.ui_state(self.ws_key, SESSION)
            self._session = saved if isinstance(saved, dict) else {}
        return self._session

    def saved_app(self, app_id: str) -> dict[str, Any]:
        """What the last session left of ``app_id``: {"folded": bool, "draft": {variable: text}}."""
        apps = self.saved_session.get("apps")
        entry = apps.get(app_id) if isinstance(apps, dict) else None
        return entry if isinstance(entry, dict) else {}

    def saved_draft(self, app_id: str) -> dict[str, Any]:
        draft = self.saved_app(app_id).get("draft")
        return draft if isinstance(draft, dict) else {}

    # -- restore ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        theme = self.store.ui_state(SETTINGS, THEME)
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        last = self.saved_session.get("last_app")
        self._reopen = last if isinstance(last, str) else None

    def on_ready(self) -> None:
        self.call_after_refresh(self._reopen_last_app)

    def on_apps_refreshed(self, message: m.AppsRefreshed) -> None:
        # The server's list is in: reopen the app if the cached list could not (or give up).
        self._reopen_last_app()
        self._reopen = None

    def _reopen_last_app(self) -> None:
        app_id = self._reopen
        if app_id is None:
            return
        item = self.app_list.apps.get(app_id)
        if item is None or item.interface is None:
            return  # not in the cached list, or its mode not known yet: the server's list will say
        self._reopen = None
        if not self.panes:  # the user has not opened one meanwhile
            self.open_app(app_id)

    async def restore_pane(self, pane: AppPane, mounted: Any) -> None:
        """Fold the new pane's form as it was left (the pane has composed once ``mounted`` is done)."""
        from textual.widgets import Collapsible

        folded = self.saved_app(pane.item.id).get("folded")
        if not isinstance(folded, bool):
            return
        await mounted
        for inputs in pane.query("#inputs").results(Collapsible):
            inputs.collapsed = folded

    # -- save -------------------------------------------------------------------------------------

    def save_session(self) -> None:
        """Write the session for the next start (through the writer: the store may be busy)."""
        apps = dict(self.saved_session.get("apps") or {})
        for app_id, pane in self.panes.items():
            apps[app_id] = _pane_state(pane, self.saved_app(app_id))
        current = self.current_pane
        session = {"last_app": current.item.id if current is not None else None, "apps": apps}
        self._session = session
        self.store_writer.set_ui_state(self.ws_key, SESSION, session)
        self.store_writer.set_ui_state(SETTINGS, THEME, self.theme)


def _pane_state(pane: AppPane, before: dict[str, Any]) -> dict[str, Any]:
    from textual.widgets import Collapsible

    state = dict(before)
    for inputs in pane.query("#inputs").results(Collapsible):
        state["folded"] = inputs.collapsed
    form = pane.form
    if form is not None:  # a form that never loaded this time keeps the draft it had
        state["draft"] = {row.field.variable: raw for row in form.rows if (raw := row.raw()) is not None}
    return state
