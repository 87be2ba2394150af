"""Small persistent state in SQLite: current conversation per app, last inputs, cached app list, the
console's session (last open app, forms as left, theme).

Never holds API keys. Rows are keyed by a workspace key chosen by the caller (e.g.
``f"{base_url}|{user}"``: conversations belong to one Dify user on one server) and the app id.

This module is the tables' reads and writes; the connections (reads never wait behind writes, any
failure logged and survived) are :mod:`difytui.store_db` and the schema :mod:`difytui.store_schema`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from .secrets import Secret
from .store_db import StateDatabase
from .store_schema import _MIGRATIONS as _MIGRATIONS  # tests build older versions from its steps
from .store_schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Store", "workspace_key"]

JSONDict = dict[str, Any]
#: Conversations whose inputs are kept per workspace (the newest): one row per CLI conversation
#: would otherwise grow forever.
CONVERSATION_INPUTS_KEPT = 500


def workspace_key(workspace: Any) -> str:
    """The rows' workspace key: conversations belong to one Dify user on one server.

    The demo's simulator gets a new port each time but keeps its conversations: one key for it."""
    server = "demo" if getattr(workspace, "source", "") == "demo" else workspace.base_url
    return f"{server}|{workspace.user}"


def _plain(value: Any) -> Any:
    """JSON-ready copy: paths become strings; a Secret is dropped so no key reaches the disk."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if not isinstance(v, Secret)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value if not isinstance(v, Secret)]
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class Store(StateDatabase):
    """The state's tables, each read and written through :class:`StateDatabase`'s connections."""

    # -- conversations ------------------------------------------------------------------------

    def conversation(self, ws: str, app_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT conversation_id FROM conversations WHERE ws = ? AND app_id = ?",
                (ws, app_id),
            ).fetchone()
            return str(row[0]) if row else None

        return self._read(None, read)

    def set_conversation(self, ws: str, app_id: str, conversation_id: str | None) -> None:
        """Remember the app's current conversation; ``None`` (or "") starts a new one next time."""

        def write(conn: sqlite3.Connection) -> None:
            if conversation_id:
                conn.execute(
                    "INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?)",
                    (ws, app_id, conversation_id, time.time()),
                )
            else:
                conn.execute("DELETE FROM conversations WHERE ws = ? AND app_id = ?", (ws, app_id))

        self._safely(None, write)

    # -- last inputs --------------------------------------------------------------------------

    def inputs(self, ws: str, app_id: str) -> JSONDict:
        def read(conn: sqlite3.Connection) -> JSONDict:
            row = conn.execute("SELECT data FROM inputs WHERE ws = ? AND app_id = ?", (ws, app_id)).fetchone()
            data = json.loads(row[0]) if row else {}
            return data if isinstance(data, dict) else {}

        return self._read({}, read)

    def set_inputs(self, ws: str, app_id: str, inputs: Mapping[str, Any]) -> None:
        data = json.dumps(_plain(dict(inputs)), ensure_ascii=False)
        self._safely(
            None,
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?)",
                (ws, app_id, data, time.time()),
            ),
        )

    # -- inputs per conversation --------------------------------------------------------------

    def conversation_inputs(self, ws: str, app_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The inputs last sent in the conversation, or None when none were recorded.

        The CLI records them per conversation; the console keeps one set per app (:meth:`inputs`)
        beside its current conversation (:meth:`conversation`), so for that conversation those are
        its inputs too. The newer record wins.
        """

        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            found = conn.execute(
                "SELECT data, updated_at FROM conversation_inputs"
                " WHERE ws = ? AND app_id = ? AND conversation_id = ?",
                (ws, app_id, conversation_id),
            ).fetchall()
            found += conn.execute(
                "SELECT i.data, i.updated_at FROM inputs i JOIN conversations c"
                " ON c.ws = i.ws AND c.app_id = i.app_id"
                " WHERE i.ws = ? AND i.app_id = ? AND c.conversation_id = ?",
                (ws, app_id, conversation_id),
            ).fetchall()
            if not found:
                return None
            data = json.loads(max(found, key=lambda row: row[1])[0])
            return data if isinstance(data, dict) and data else None

        return self._read(None, read)

    def set_conversation_inputs(
        self, ws: str, app_id: str, conversation_id: str, inputs: dict[str, Any]
    ) -> None:
        data = json.dumps(_plain(dict(inputs)), ensure_ascii=False)

        def write(conn: sqlite3.Connection) -> None:
            # One transaction: the record, and the workspace's oldest ones beyond the cap pruned.
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO conversation_inputs VALUES (?, ?, ?, ?, ?)",
                    (ws, app_id, conversation_id, data, time.time()),
                )
                conn.execute(
                    "DELETE FROM conversation_inputs WHERE ws = ? AND rowid NOT IN"
                    " (SELECT rowid FROM conversation_inputs WHERE ws = ?"
                    " ORDER BY updated_at DESC, rowid DESC LIMIT ?)",
                    (ws, ws, CONVERSATION_INPUTS_KEPT),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        self._safely(None, write)

    # -- cached app list ----------------------------------------------------------------------

    def cached_apps(self, ws: str) -> list[JSONDict]:
        def read(conn: sqlite3.Connection) -> list[JSONDict]:
            row = conn.execute("SELECT data FROM app_cache WHERE ws = ?", (ws,)).fetchone()
            data = json.loads(row[0]) if row else []
            return [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []

        return self._read([], read)

    def set_cached_apps(self, ws: str, apps: Iterable[Mapping[str, Any]]) -> None:
        data = json.dumps(_plain(list(apps)), ensure_ascii=False)
        self._safely(
            None,
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO app_cache VALUES (?, ?, ?)", (ws, data, time.time())
            ),
        )

    # -- the console's session and settings ---------------------------------------------------

    def ui_state(self, ws: str, name: str) -> Any:
        """The JSON value saved under ``name`` (None when there is none)."""

        def read(conn: sqlite3.Connection) -> Any:
            row = conn.execute("SELECT data FROM ui_state WHERE ws = ? AND name = ?", (ws, name)).fetchone()
            return json.loads(row[0]) if row else None

        return self._read(None, read)

    def set_ui_state(self, ws: str, name: str, value: Any) -> None:
        data = json.dumps(_plain(value), ensure_ascii=False)
        self._safely(
            None,
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO ui_state VALUES (?, ?, ?, ?)", (ws, name, data, time.time())
            ),
        )
