"""State writes off the UI thread.

SQLite waits up to its busy timeout when another process holds the database, and a message
handler that waits blocks every keypress and repaint. Writes go to one background thread instead,
in the order they were asked for (a conversation id set and then cleared must end up cleared).
Reads stay on the caller's thread: the store reads through its own connection, which does not
wait for a pending write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the store (and sqlite3) loads when the console makes one, not at import
    from difytui.human_input import HumanInputForm
    from difytui.store import Store

log = logging.getLogger(__name__)


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="difytui-state")
        self._closed = False

    def _submit(self, write: Callable[..., object], *args: Any) -> None:
        if self._closed:  # a late message after shutdown: write in place rather than lose it
            write(*args)
            return
        self._executor.submit(write, *args).add_done_callback(_log_failure)

    def call(self, write: Callable[..., object], *args: Any) -> None:
        """Any other write (a run record), in order with the others."""
        self._submit(write, *args)

    def set_inputs(self, ws: str, app_id: str, values: dict[str, Any]) -> None:
        self._submit(self.store.set_inputs, ws, app_id, dict(values))

    def set_conversation(self, ws: str, app_id: str, conversation_id: str | None) -> None:
        self._submit(self.store.set_conversation, ws, app_id, conversation_id)

    def set_cached_apps(self, ws: str, apps: list[dict[str, Any]]) -> None:
        self._submit(self.store.set_cached_apps, ws, list(apps))

    def set_ui_state(self, ws: str, name: str, value: Any) -> None:
        self._submit(self.store.set_ui_state, ws, name, value)

    def record_form(self, ws: str, app_id: str, form: HumanInputForm, event: dict[str, Any]) -> None:
        from difytui.human_input_store import PendingForms

        self._submit(PendingForms(self.store).record, ws, app_id, form, event)

    def forget_form(self, ws: str, form_token: str) -> None:
        from difytui.human_input_store import PendingForms

        self._submit(PendingForms(self.store).remove, ws, form_token)

    def close(self) -> None:
        """Finish the queued writes (the next start reads them) and stop the thread."""
        self._closed = True
        self._executor.shutdown(wait=True)


def _log_failure(future: Future[Any]) -> None:
    # Store already logs and swallows database errors; anything else is a bug worth a log line.
    error = future.exception()
    if error is not None:
        log.warning("state write failed: %s: %s", type(error).__name__, error)
