"""The state database's connections: every call safe, reads never behind writes.

State is a convenience, so the database never takes the program down: an unreadable, corrupt,
locked or too-new file is logged and replaced by an in-memory database for this session, and a
failing read or write is logged and gives the caller's default.

Reads never wait behind writes: a write can sit in SQLite's busy wait for seconds while another
process holds the file, and reads come from the UI thread. So a file database has two
connections, each with its own lock: writes go through one, reads through the other, and WAL
lets the reader see the last committed state while a write is pending.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import paths
from .store_schema import migrate

__all__ = ["READ_TIMEOUT", "StateDatabase"]

log = logging.getLogger("difytui.store")  # the name it has always logged under
T = TypeVar("T")
_DB = TypeVar("_DB", bound="StateDatabase")

# How long a read may wait for the file. With WAL a reader does not wait for writers at all; this
# bounds the rare cases that do (crash recovery, a file system where WAL could not be enabled).
READ_TIMEOUT = 0.25


class StateDatabase:
    """The writer and reader connections of one state file (or one in-memory database)."""

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
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

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

    def __enter__(self: _DB) -> _DB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
