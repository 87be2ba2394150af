"""Reads of the state store do not wait for a write that waits on the file (issue 7, bug 2)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from difytui.store import Store

WS = "http://localhost/v1|alice"


class WaitingWrites:
    """A write connection whose writes wait (inside the store's write lock) until released."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.blocked = threading.Event()
        self.release = threading.Event()

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith(("INSERT", "DELETE")):
            self.blocked.set()
            self.release.wait(10)  # bounded only so a broken build fails instead of hanging
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def test_reads_return_the_committed_state_while_a_write_waits(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    store.set_inputs(WS, "bot", {"topic": "old"})
    store.set_conversation(WS, "bot", "c-1")
    writes = WaitingWrites(store._conn)
    store._conn = writes  # type: ignore[assignment]
    writer = threading.Thread(target=store.set_inputs, args=(WS, "bot", {"topic": "new"}))
    writer.start()
    try:
        assert writes.blocked.wait(10)
        assert store.inputs(WS, "bot") == {"topic": "old"}
        assert store.conversation(WS, "bot") == "c-1"
        assert writer.is_alive()  # the reads came back while the write still waited
    finally:
        writes.release.set()
        writer.join()
    assert store.inputs(WS, "bot") == {"topic": "new"}  # and a finished write is seen at once
    store._conn = writes.conn
    store.close()


def test_a_database_locked_by_another_process_still_reads(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = Store(path)
    store.set_cached_apps(WS, [{"id": "bot"}])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another difytui holds the write lock
    try:
        assert store.cached_apps(WS) == [{"id": "bot"}]
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.close()
