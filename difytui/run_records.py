"""Run records: every run kept locally with its full event stream, within a budget (issue 11).

A record is a run's summary (status, inputs, query, answer or outputs, error, ids, timing, tokens,
cost) in columns, plus every event it received as zlib-compressed JSON lines. The budget bounds
both the number of records and the database's size; the oldest records go first. The size check
counts the pages SQLite really uses (freed pages are reused by the next records), and makes room
*before* a record is written, so the file does not grow past the budget. Never holds a key: inputs
lose any :class:`~difytui.secrets.Secret`, and Dify's events carry none.

The write-ahead log counts too: a share of the budget (``wal_reserve``) is kept for it, and it is
checkpointed and truncated once it passes half of that. Records are written with
``synchronous=NORMAL`` (WAL's safe setting: no fsync per insert; a power cut may lose the last
records, never the database).

Nothing here knows the UI or the CLI: :func:`record_run` takes a finished run's events.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .run_summary import JSON, RunRecord, summarize
from .store import Store

__all__ = [
    "JSON",
    "Budget",
    "RunRecord",
    "RunRecords",
    "continue_run",
    "known_run_ids",
    "record_run",
    "summarize",
]

if TYPE_CHECKING:
    from .config import RecordsBudget

DEFAULT_MAX_RUNS = 5000
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: bytes a row costs besides its columns' text (row header, index entry), for the page estimate
_ROW_OVERHEAD = 96


#: the write-ahead log's share of the byte budget, at most
_WAL_RESERVE_CAP = 4 * 1024 * 1024


@dataclass(frozen=True)
class Budget:
    max_runs: int = DEFAULT_MAX_RUNS
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def of(cls, settings: RecordsBudget | None) -> Budget:
        """The budget a config's ``[records]`` sets (its unset limits: the defaults)."""
        if settings is None:
            return cls()
        return cls(settings.max_runs or DEFAULT_MAX_RUNS, settings.max_bytes or DEFAULT_MAX_BYTES)

    @property
    def wal_reserve(self) -> int:
        """Bytes kept for the write-ahead log (checkpointed past half of it)."""
        return min(_WAL_RESERVE_CAP, self.max_bytes // 8)


#: A lone UTF-16 surrogate: a str can hold one (a hostile server's "\\ud800" in JSON), UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(value: object, **options: Any) -> str:
    """JSON text that UTF-8 (and SQLite) can hold: lone surrogates stay escaped, so it loads back
    the same."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(value: str | None) -> str | None:
    """Plain text for a column: a lone surrogate becomes U+FFFD."""
    return None if value is None else _SURROGATE.sub("\ufffd", value)


def compress_events(events: Iterable[JSON]) -> bytes:
    lines = "\n".join(_json(e, separators=(",", ":")) for e in events)
    return zlib.compress(lines.encode("utf-8"), 6)


def decompress_events(blob: bytes) -> list[JSON]:
    text = zlib.decompress(blob).decode("utf-8")
    return [json.loads(line) for line in text.split("\n") if line]


_COLUMNS = (
    "ws, app_id, interface, status, started, finished, query, inputs, answer, outputs, error, "
    "conversation_id, message_id, task_id, workflow_run_id, elapsed, total_tokens, total_price, "
    "currency, event_count"
)


def _dump(value: JSON | None) -> str | None:
    return None if value is None else _json(value)


def _row(record: RunRecord) -> tuple[Any, ...]:
    return (
        record.ws,
        record.app_id,
        record.interface,
        record.status,
        record.started,
        record.finished,
        _text(record.query),
        _dump(record.inputs) or "{}",
        _text(record.answer),
        _dump(record.outputs),
        _text(record.error),
        record.conversation_id,
        record.message_id,
        record.task_id,
        record.workflow_run_id,
        record.elapsed,
        record.total_tokens,
        record.total_price,
        record.currency,
        record.event_count,
    )


def _record(row: sqlite3.Row | tuple[Any, ...]) -> RunRecord:
    (rid, ws, app_id, interface, status, started, finished, query, inputs, answer, outputs, error) = row[:12]
    (conv, msg, task, wf_run, elapsed, tokens, price, currency, count) = row[12:21]
    return RunRecord(
        app_id,
        interface,
        status,
        json.loads(inputs),
        query=query,
        answer=answer,
        outputs=json.loads(outputs) if outputs else None,
        error=error,
        conversation_id=conv,
        message_id=msg,
        task_id=task,
        workflow_run_id=wf_run,
        started=started,
        finished=finished,
        elapsed=elapsed,
        total_tokens=tokens,
        total_price=price,
        currency=currency,
        event_count=count,
        id=rid,
        ws=ws,
    )


class RunRecords:
    """The run records table of a :class:`~difytui.store.Store`, within ``budget``."""

    def __init__(self, store: Store, budget: Budget | None = None) -> None:
        self.store = store
        self.budget = budget or Budget()
        self._wal = f"{store.path}-wal" if store.persistent else None
        self._tuned = False  # the writer connection's settings, set with the first record

    def _tune(self, conn: sqlite3.Connection) -> None:
        if not self._tuned:
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {int(self.budget.wal_reserve // 2)}")
            self._tuned = True

    def add(self, ws: str, record: RunRecord, events: Iterable[JSON]) -> int | None:
        """Store ``record`` with its events; the oldest records make room first. Its id (None: the
        database failed, which the store logs; a record is a convenience)."""
        blob = compress_events(events)
        row = _row(record)
        row = (ws, *row[1:])
        size = len(blob) + sum(len(v) for v in row if isinstance(v, str)) + _ROW_OVERHEAD

        def write(conn: sqlite3.Connection) -> int | None:
            self._tune(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._make_room(conn, size)
                cursor = conn.execute(
                    f"INSERT INTO run_records ({_COLUMNS}, events, size) VALUES ({', '.join('?' * 22)})",
                    (*row, blob, size),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._trim_wal(conn)
            return cursor.lastrowid

        return self.store.write(None, write)

    def _trim_wal(self, conn: sqlite3.Connection) -> None:
        """Checkpoint and truncate the write-ahead log once it passes half its reserve."""
        if self._wal is None:
            return
        try:
            size = os.path.getsize(self._wal)
        except OSError:
            return
        if size > self.budget.wal_reserve // 2:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _make_room(self, conn: sqlite3.Connection, size: int) -> None:
        """Drop the oldest records until one more of ``size`` bytes fits the budget."""
        (count,) = conn.execute("SELECT count(*) FROM run_records").fetchone()
        excess = count + 1 - self.budget.max_runs
        if excess > 0:
            _drop_oldest(conn, excess)
            count -= excess
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        needed = (size // page_size + 2) * page_size  # its pages, and one for the index and table
        room = self.budget.max_bytes - self.budget.wal_reserve
        while count > 0 and _used_bytes(conn, page_size) + needed > room:
            batch = max(1, count // 50)  # a few at a time: sizes differ, so the check repeats
            _drop_oldest(conn, batch)
            count -= batch

    def find(
        self,
        ws: str,
        app_id: str | None = None,
        *,
        status: str | None = None,
        text: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[RunRecord]:
        """Records newest first (``before_id``: the page after the one that ended there); ``text``
        matches the query, answer, inputs, outputs or error."""
        where, args = ["ws = ?"], [ws]
        if app_id is not None:
            where.append("app_id = ?")
            args.append(app_id)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cols = ("query", "answer", "inputs", "outputs", "error")
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in cols) + ")")
            args += [like] * len(cols)
        if before_id is not None:
            where.append("id < ?")
            args.append(str(before_id))
        sql = f"SELECT id, {_COLUMNS} FROM run_records WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[RunRecord]:
            return [_record(row) for row in conn.execute(sql, (*args, limit))]

        return self.store.read([], read)

    def get(self, record_id: int) -> RunRecord | None:
        def read(conn: sqlite3.Connection) -> RunRecord | None:
            row = conn.execute(
                f"SELECT id, {_COLUMNS} FROM run_records WHERE id = ?", (record_id,)
            ).fetchone()
            return None if row is None else _record(row)

        return self.store.read(None, read)

    def events(self, record_id: int) -> list[JSON]:
        """The run's events as received, in order ([] if the record is gone)."""

        def read(conn: sqlite3.Connection) -> list[JSON]:
            row = conn.execute("SELECT events FROM run_records WHERE id = ?", (record_id,)).fetchone()
            return [] if row is None else decompress_events(row[0])

        none: list[JSON] = []
        return self.store.read(none, read)

    def of_run(self, ws: str, app_id: str, workflow_run_id: str) -> RunRecord | None:
        """The newest record of Dify's run ``workflow_run_id``, if one holds it."""

        def read(conn: sqlite3.Connection) -> RunRecord | None:
            where = "ws = ? AND app_id = ? AND workflow_run_id = ?"
            sql = f"SELECT id, {_COLUMNS} FROM run_records WHERE {where} ORDER BY id DESC LIMIT 1"
            row = conn.execute(sql, (ws, app_id, workflow_run_id)).fetchone()
            return None if row is None else _record(row)

        return self.store.read(None, read)

    def remove(self, record_id: int) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM run_records WHERE id = ?", (record_id,))

        self.store.write(None, write)

    def count(self, ws: str | None = None) -> int:
        def read(conn: sqlite3.Connection) -> int:
            if ws is None:
                return int(conn.execute("SELECT count(*) FROM run_records").fetchone()[0])
            return int(conn.execute("SELECT count(*) FROM run_records WHERE ws = ?", (ws,)).fetchone()[0])

        return self.store.read(0, read)


def _drop_oldest(conn: sqlite3.Connection, n: int) -> None:
    conn.execute("DELETE FROM run_records WHERE id IN (SELECT id FROM run_records ORDER BY id LIMIT ?)", (n,))


def _used_bytes(conn: sqlite3.Connection, page_size: int) -> int:
    """The database's size without its free pages (which the next records reuse)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - free) * page_size)


def record_run(
    records: RunRecords,
    ws: str,
    app_id: str,
    interface: str,
    inputs: Mapping[str, Any],
    events: Iterable[JSON],
    *,
    query: str | None = None,
    started: float = 0.0,
    finished: float | None = None,
    status: str | None = None,
    error: str | None = None,
) -> int | None:
    """Summarize a finished run and store it: what the console's writer thread and the CLI call.

    ``status``/``error``: what the caller saw when the stream did not say (a stop, a failure on our
    side before or while reading); the stream's own end wins."""
    record, kept = summarize(
        app_id, interface, inputs, events, query=query, started=started, finished=finished, status=status
    )
    if record.status == "unfinished" and status is None and error:
        record.status = "failed"
    if error and not record.error:
        record.error = error
    return records.add(ws, record, kept)


def continue_run(
    records: RunRecords,
    ws: str,
    app_id: str,
    workflow_run_id: str,
    events: Iterable[JSON],
    *,
    finished: float | None = None,
    status: str | None = None,
    error: str | None = None,
) -> int | None:
    """A paused run went on (its Human Input form was submitted): its record takes what came after
    the pause, and the run's new end. The resumed stream's replay of the run so far (it ends with
    ``workflow_paused``) is left out. The record's new id; None if no record holds that run."""
    old = records.of_run(ws, app_id, workflow_run_id)
    if old is None or old.id is None:
        return None
    tail = list(events)
    kinds = [event.get("event") for event in tail]
    if "workflow_paused" in kinds:
        tail = tail[kinds.index("workflow_paused") + 1 :]
    new_id = record_run(
        records,
        ws,
        app_id,
        old.interface,
        old.inputs,
        [*records.events(old.id), *tail],
        query=old.query,
        started=old.started,
        finished=finished,
        status=status,
        error=error,
    )
    if new_id is not None:
        records.remove(old.id)
    return new_id


def known_run_ids(records: RunRecords, ws: str, run_ids: Iterable[str]) -> set[str]:
    """Which of Dify's workflow run ids the records already hold (the Runs view lists them once)."""
    ids = list(run_ids)
    if not ids:
        return set()

    def read(conn: sqlite3.Connection) -> set[str]:
        marks = ", ".join("?" * len(ids))
        sql = f"SELECT workflow_run_id FROM run_records WHERE ws = ? AND workflow_run_id IN ({marks})"
        return {row[0] for row in conn.execute(sql, (ws, *ids))}

    return records.store.read(set(), read)
