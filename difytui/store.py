"""Small persistent state in SQLite: current conversation per app, last inputs, cached app list, the
console's session (last open app, forms as left, theme).

Never holds API keys. Rows are keyed by a workspace key chosen by the caller (e.g.
``f"{base_url}|{user}"``: conversations belong to one Dify user on one server) and the app id.

State is a convenience, so the store never takes the program down: an unreadable, corrupt, locked
or too-new database file is logged and replaced by an in-memory database for this session, and a
failing read or write is logged and ignored.

Reads never wait behind writes: a write can sit in SQLite's busy wait for seconds while another
process holds the file, and reads come from the UI thread. So a file database has two
connections, each with its own lock: writes go through one, reads through the other, and WAL
lets the reader see the last committed state while a write is pending.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any, TypeVar

from . import paths
from .secrets import Secret

__all__ = ["SCHEMA_VERSION", "Store", "workspace_key"]

log = logging.getLogger(__name__)
T = TypeVar("T")
JSONDict = dict[str, Any]

# How long a read may wait for the file. With WAL a reader does not wait for writers at all; this
# bounds the rare cases that do (crash recovery, a file system where WAL could not be enabled).
READ_TIMEOUT = 0.25

# Ordered upgrade steps: _MIGRATIONS[n] takes a database from user_version n to n + 1.
# Append new steps; never edit a released one.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE conversations (
        ws TEXT NOT NULL,
        app_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (ws, app_id)
    );
    CREATE TABLE inputs (
        ws TEXT NOT NULL,
        app_id TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (ws, app_id)
    );
    CREATE TABLE app_cache (
        ws TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # The inputs of a conversation's latest turn: Dify wants them again on every follow-up.
    """
    CREATE TABLE conversation_inputs (
        ws TEXT NOT NULL,
        app_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (ws, app_id, conversation_id)
    );
    """,
    # The test bench's suites (`difytui test`) and each run of a case on a target: what it answered,
    # its ids, timing, usage and graded assertions (``data``, JSON), for "changed since last run".
    """
    CREATE TABLE bench_suites (
        suite_id TEXT PRIMARY KEY,
        started REAL NOT NULL,
        interrupted INTEGER NOT NULL DEFAULT 0,
        cases INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE bench_runs (
        suite_id TEXT NOT NULL REFERENCES bench_suites(suite_id) ON DELETE CASCADE,
        case_key TEXT NOT NULL,
        target TEXT NOT NULL,
        repeat_index INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        text TEXT,
        data TEXT NOT NULL,
        recorded REAL NOT NULL
    );
    CREATE INDEX bench_runs_case ON bench_runs (case_key, target, recorded);
    CREATE INDEX bench_runs_suite ON bench_runs (suite_id);
    """,
    # The console's session (last open app, each app's form as left, folded or not) and settings
    # such as the theme: one JSON value per name, "" as ws for what is not a workspace's.
    """
    CREATE TABLE ui_state (
        ws TEXT NOT NULL,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (ws, name)
    );
    """,
    # Every run's record (difytui.run_records): its summary in columns, its full event stream as
    # zlib-compressed JSON lines; ``size`` is what the row costs, for the budget. Never a key.
    """
    CREATE TABLE run_records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ws TEXT NOT NULL,
        app_id TEXT NOT NULL,
        interface TEXT NOT NULL,
        status TEXT NOT NULL,
        started REAL NOT NULL,
        finished REAL,
        query TEXT,
        inputs TEXT NOT NULL,
        answer TEXT,
        outputs TEXT,
        error TEXT,
        conversation_id TEXT,
        message_id TEXT,
        task_id TEXT,
        workflow_run_id TEXT,
        elapsed REAL,
        total_tokens INTEGER,
        total_price TEXT,
        currency TEXT,
        event_count INTEGER NOT NULL,
        events BLOB NOT NULL,
        size INTEGER NOT NULL
    );
    CREATE INDEX run_records_app ON run_records (ws, app_id, id);
    """,
    # Human Input forms of paused runs (difytui.human_input_store), until submitted or expired.
    """
    CREATE TABLE pending_forms (
        ws TEXT NOT NULL,
        form_token TEXT NOT NULL,
        app_id TEXT NOT NULL,
        workflow_run_id TEXT NOT NULL,
        task_id TEXT,
        conversation_id TEXT,
        message_id TEXT,
        expires REAL,
        form TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (ws, form_token)
    );
    CREATE INDEX pending_forms_run ON pending_forms (ws, workflow_run_id);
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)
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


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        self._lock = threading.RLock()  # the writer connection (and every call in memory mode)
        self._read_lock = threading.Lock()  # the reader connection: never held across a write
        target = str(path) if path is not None else str(paths.state_db_path())
        self.path = target
        self.problem: str | None = None  # why the file could not be used, if it could not
        try:
            self._conn = self._open(target)
        except (sqlite3.Error, OSError) as exc:
            self.problem = f"state database {target} unusable ({exc}); using memory for now"
            log.warning("%s", self.problem)
            self._conn = self._open(":memory:")
        # A memory database has nothing to wait for (and a second connection would be another
        # database): it reads through the writer's connection.
        self._reader: sqlite3.Connection | None = None
        if self.persistent:
            try:
                self._reader = self._connect(target, READ_TIMEOUT)
                self._reader.execute("PRAGMA query_only = ON")
            except sqlite3.Error as exc:
                log.warning("state database: no separate reader (%s); reads wait for writes", exc)
                self._reader = None

    @property
    def persistent(self) -> bool:
        return self.problem is None and self.path != ":memory:"

    @staticmethod
    def _connect(target: str, timeout: float) -> sqlite3.Connection:
        # isolation_level=None: every statement commits on its own; migrations use explicit BEGIN.
        return sqlite3.connect(target, timeout=timeout, check_same_thread=False, isolation_level=None)

    def _open(self, target: str) -> sqlite3.Connection:
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect(target, 5.0)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this difytui's ({SCHEMA_VERSION})"
            )
        for step in range(version, SCHEMA_VERSION):
            conn.executescript(f"BEGIN; {_MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")

    def _safely(self, default: T, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``action`` on the writer connection (writes, one at a time)."""
        with self._lock:
            return self._guarded(default, action, self._conn)

    def _read(self, default: T, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``action``; it does not wait for a pending write."""
        if self._reader is None:
            return self._safely(default, action)
        with self._read_lock:
            return self._guarded(default, action, self._reader)

    @staticmethod
    def _guarded(default: T, action: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
        try:
            return action(conn)
        except (sqlite3.Error, ValueError) as exc:
            log.warning("state database: %s", exc)
            return default

    # -- for other modules' tables (the bench's records) ----------------------------------------

    def write(self, default: T, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``action`` on the writer connection; a database error is logged and gives ``default``."""
        return self._safely(default, action)

    def read(self, default: T, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``action`` (it does not wait for a pending write); errors give ``default``."""
        return self._read(default, action)

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

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._read_lock:
            if self._reader is not None:
                self._close(self._reader)
        with self._lock:
            self._close(self._conn)

    @staticmethod
    def _close(conn: sqlite3.Connection) -> None:
        try:
            conn.close()
        except sqlite3.Error as exc:  # pragma: no cover - close rarely fails
            log.warning("state database: %s", exc)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
