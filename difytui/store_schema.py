"""The state database's schema: its tables, created and upgraded by ordered migrations.

``PRAGMA user_version`` holds how many steps a file has had; :func:`migrate` applies the rest,
each in one transaction, and refuses a file from a newer difytui.
"""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA_VERSION", "migrate"]

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


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to :data:`SCHEMA_VERSION` (a newer file is a DatabaseError)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this difytui's ({SCHEMA_VERSION})"
        )
    for step in range(version, SCHEMA_VERSION):
        conn.executescript(f"BEGIN; {_MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")
