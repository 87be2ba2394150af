"""The sidebar's app list: cached entries for the first frame, then the server's, cached again."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from difytui.tui.models import AppItem
from difytui.tui.startup import DeferredStartup
from difytui.tui.widgets.app_list import AppList

if TYPE_CHECKING:
    from difytui.store import Store
    from difytui.tui import messages as m
    from difytui.tui.store_writer import StoreWriter


class AppListRefresh(DeferredStartup):
    """Fills the app list: never waits on the network before the first frame."""

    # Set by DifyConsole.__init__.
    store: Store
    store_writer: StoreWriter
    ws_key: str

    @property
    def app_list(self) -> AppList:
        return self.query_one(AppList)

    def app_items(self) -> list[AppItem]:
        apps = self.app_list.apps
        return [apps[i] for i in self.app_list.order]

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
        client = self._client if self._client is not None else await asyncio.to_thread(self._build_client)
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
            self.app_list.set_status("")

    def on_apps_refresh_failed(self, message: m.AppsRefreshFailed) -> None:
        self.app_list.set_status(f"cannot refresh: {message.message}")
