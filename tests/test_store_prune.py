"""The per-conversation inputs the CLI records are capped per workspace, pruned on write."""

from __future__ import annotations

import sqlite3

from difytui import store
from difytui.store import Store


def test_only_the_newest_conversations_inputs_are_kept_per_workspace(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "CONVERSATION_INPUTS_KEPT", 3)
    db = Store(tmp_path / "state.db")
    for n in range(6):
        db.set_conversation_inputs("ws-a", "app", f"c{n}", {"n": n})
    db.set_conversation_inputs("ws-b", "app", "other", {"n": 99})
    db.set_conversation_inputs("ws-a", "app", "c3", {"n": 33})  # rewritten: newest again

    assert [db.conversation_inputs("ws-a", "app", f"c{n}") for n in range(6)] == [
        None, None, None, {"n": 33}, {"n": 4}, {"n": 5},
    ]  # fmt: skip
    assert db.conversation_inputs("ws-b", "app", "other") == {"n": 99}  # another workspace's count
    db.close()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM conversation_inputs").fetchone() == (4,)


def test_the_default_cap_is_500():
    assert store.CONVERSATION_INPUTS_KEPT == 500
