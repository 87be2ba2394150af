"""The conversations of an app that the local state knows: the console's current one, the CLI's
(inputs per conversation) and those the run records name.

The console's conversation list shows them beside Dify's own list: marked when Dify no longer lists
them, and alone in an account workspace, whose API has no conversation history.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .store import Store

#: the newest this many: a list, not an archive
LIMIT = 500


@dataclass(frozen=True)
class LocalConversation:
    id: str
    #: the first query the run records hold for it ("" when none was recorded)
    name: str
    #: unix time of the newest local trace of it
    updated: float
    #: how many runs the records hold in it (None: no run was recorded)
    runs: int | None
    inputs: dict[str, Any] = field(default_factory=dict)


_IDS = """
SELECT conversation_id, MAX(at) FROM (
    SELECT conversation_id, updated_at AS at FROM conversations WHERE ws = :ws AND app_id = :app
    UNION ALL
    SELECT conversation_id, updated_at FROM conversation_inputs WHERE ws = :ws AND app_id = :app
    UNION ALL
    SELECT conversation_id, COALESCE(finished, started) FROM run_records
        WHERE ws = :ws AND app_id = :app AND conversation_id IS NOT NULL AND conversation_id != ''
) GROUP BY conversation_id ORDER BY 2 DESC LIMIT :limit
"""

_RUNS = """
SELECT r.conversation_id, COUNT(*), (
    SELECT query FROM run_records f WHERE f.ws = :ws AND f.app_id = :app
        AND f.conversation_id = r.conversation_id ORDER BY f.id LIMIT 1)
FROM run_records r WHERE r.ws = :ws AND r.app_id = :app AND r.conversation_id IS NOT NULL
GROUP BY r.conversation_id
"""


def local_conversations(store: Store, ws: str, app_id: str) -> list[LocalConversation]:
    """The app's locally known conversations, newest first (a database error gives none)."""
    args = {"ws": ws, "app": app_id, "limit": LIMIT}

    def read(conn: sqlite3.Connection) -> list[LocalConversation]:
        runs = {row[0]: (int(row[1]), row[2]) for row in conn.execute(_RUNS, args)}
        found = []
        for cid, at in conn.execute(_IDS, args).fetchall():
            count, query = runs.get(cid, (None, None))
            found.append(
                LocalConversation(
                    id=str(cid),
                    name=query if isinstance(query, str) else "",
                    updated=float(at or 0.0),
                    runs=count,
                    inputs=_inputs(conn, ws, app_id, str(cid)),
                )
            )
        return found

    return store.read([], read)


def _inputs(conn: sqlite3.Connection, ws: str, app_id: str, cid: str) -> dict[str, Any]:
    """The inputs last sent in it: the CLI's record, else the console's (its current conversation)."""
    row = conn.execute(
        "SELECT data FROM conversation_inputs WHERE ws = ? AND app_id = ? AND conversation_id = ?",
        (ws, app_id, cid),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT i.data FROM inputs i JOIN conversations c ON c.ws = i.ws AND c.app_id = i.app_id"
            " WHERE i.ws = ? AND i.app_id = ? AND c.conversation_id = ?",
            (ws, app_id, cid),
        ).fetchone()
    data = json.loads(row[0]) if row else {}
    return data if isinstance(data, dict) else {}
