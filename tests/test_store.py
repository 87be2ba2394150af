from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from difytui.secrets import Secret
from difytui.store import SCHEMA_VERSION, Store

WS = "http://localhost/v1|alice"


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "nested" / "dir" / "state.sqlite3"


def test_created_with_parents_and_schema(db):
    with Store(db) as store:
        assert store.persistent and store.problem is None
    assert db.is_file()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_default_path_from_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFYTUI_DATA_DIR", str(tmp_path / "data"))
    store = Store()
    store.set_conversation(WS, "bot", "c-1")
    store.close()
    assert (tmp_path / "data" / "state.sqlite3").is_file()


def test_conversation_round_trip_and_restart(db):
    store = Store(db)
    assert store.conversation(WS, "bot") is None
    store.set_conversation(WS, "bot", "c-1")
    store.set_conversation(WS, "bot", "c-2")  # replaces
    store.set_conversation(WS, "other", "c-9")
    store.set_conversation("http://x/v1|bob", "bot", "c-bob")
    store.close()

    store = Store(db)  # a new process, same file
    assert store.conversation(WS, "bot") == "c-2"
    assert store.conversation(WS, "other") == "c-9"
    assert store.conversation("http://x/v1|bob", "bot") == "c-bob"
    store.set_conversation(WS, "bot", None)  # "new conversation"
    assert store.conversation(WS, "bot") is None
    store.close()
    assert Store(db).conversation(WS, "bot") is None


def test_inputs_round_trip(db):
    store = Store(db)
    assert store.inputs(WS, "bot") == {}
    values = {"name": "Ann", "n": 3, "ok": True, "doc": Path("/tmp/r.pdf"),
              "imgs": [Path("a.png"), "https://h/b.png"], "meta": {"k": [1, 2.5, None]}}  # fmt: skip
    store.set_inputs(WS, "bot", values)
    store.close()
    assert Store(db).inputs(WS, "bot") == {
        "name": "Ann",
        "n": 3,
        "ok": True,
        "doc": "/tmp/r.pdf",
        "imgs": ["a.png", "https://h/b.png"],
        "meta": {"k": [1, 2.5, None]},
    }


def test_cached_apps_round_trip(db):
    store = Store(db)
    assert store.cached_apps(WS) == []
    apps = [{"id": "bot", "name": "Bot", "mode": "chat"}, {"id": "wf", "name": "WF"}]
    store.set_cached_apps(WS, apps)
    store.set_cached_apps("other", [])
    store.close()
    store = Store(db)
    assert store.cached_apps(WS) == apps
    assert store.cached_apps("other") == []


def test_never_writes_secrets(db):
    key = "app-VerySecretKey98765"
    store = Store(db)
    store.set_inputs(WS, "bot", {"name": "x", "token": Secret(key), "l": [Secret(key)]})
    store.set_cached_apps(WS, [{"id": "bot", "key": Secret(key)}])
    assert store.inputs(WS, "bot") == {"name": "x", "l": []}
    assert store.cached_apps(WS) == [{"id": "bot"}]
    store.close()
    for file in db.parent.iterdir():
        assert key.encode() not in file.read_bytes()


def test_memory_store():
    store = Store(":memory:")
    assert not store.persistent
    store.set_conversation(WS, "bot", "c-1")
    assert store.conversation(WS, "bot") == "c-1"


def test_corrupt_file_falls_back_to_memory(db, caplog):
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a sqlite database" * 100)
    store = Store(db)
    assert not store.persistent
    assert "unusable" in (store.problem or "")
    assert "unusable" in caplog.text
    store.set_inputs(WS, "bot", {"a": "1"})
    assert store.inputs(WS, "bot") == {"a": "1"}
    store.close()
    assert db.read_bytes().startswith(b"this is not")  # the user's file is left alone


def test_newer_schema_is_not_touched(db):
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    store = Store(db)
    assert not store.persistent and "newer" in (store.problem or "")


def test_upgrades_from_empty_version_zero_file(db):
    db.parent.mkdir(parents=True)
    sqlite3.connect(db).close()  # an empty database at user_version 0
    store = Store(db)
    assert store.persistent
    store.set_conversation(WS, "bot", "c")
    assert store.conversation(WS, "bot") == "c"


def test_unusable_directory_falls_back(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = Store(blocker / "state.sqlite3")  # parent is a file: cannot be created
    assert not store.persistent
    store.set_cached_apps(WS, [{"id": "a"}])
    assert store.cached_apps(WS) == [{"id": "a"}]


def test_bad_rows_and_closed_store_do_not_raise(db):
    store = Store(db)
    store._conn.execute("INSERT INTO inputs VALUES (?, ?, ?, 0)", (WS, "bot", "{broken"))
    store._conn.execute("INSERT INTO app_cache VALUES (?, ?, 0)", (WS, '{"not": "a list"}'))
    assert store.inputs(WS, "bot") == {}
    assert store.cached_apps(WS) == []
    store.close()
    store.set_conversation(WS, "bot", "c")  # logged, not raised
    assert store.conversation(WS, "bot") is None


def test_concurrent_writers(db):
    store = Store(db)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                store.set_conversation(WS, f"app{n}", f"c{i}")
                store.set_inputs(WS, f"app{n}", {"i": i})
        except BaseException as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store.close()
    store = Store(db)
    assert [store.conversation(WS, f"app{n}") for n in range(4)] == ["c49"] * 4
    assert store.inputs(WS, "app3") == {"i": 49}
