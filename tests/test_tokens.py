"""Account tokens: kept in the OS keyring when there is one, else in a 0600 file; never shown."""

from __future__ import annotations

import json
import os
import stat

import pytest

from difytui import tokens
from difytui.secrets import Secret
from difytui.tokens import TokenStore

TOKEN = "dfoa_" + "t" * 43
SERVER = "https://dify.example.com"


class FakeKeyring:
    """Stands in for the OS keyring, which this machine (no desktop session) does not have."""

    def __init__(self, fail: bool = False) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self.fail = fail

    def set_password(self, service, user, value):
        if self.fail:
            raise RuntimeError("locked")
        self.items[(service, user)] = value

    def get_password(self, service, user):
        return self.items.get((service, user))

    def delete_password(self, service, user):
        del self.items[(service, user)]


def test_file_store_is_private_and_keeps_the_login_info(tmp_path):
    store = TokenStore(tmp_path / "tokens.json", use_keyring=False)
    store.save(SERVER + "/", Secret(TOKEN), {"account": {"email": "a@b.c"}, "expires_at": "2026-12-10"})
    assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
    assert store.get(SERVER).reveal() == TOKEN
    assert store.info(SERVER) == {
        "account": {"email": "a@b.c"},
        "expires_at": "2026-12-10",
        "storage": "file",
    }
    assert TOKEN not in repr(store.get(SERVER)) and TOKEN not in str(store.info(SERVER))
    assert store.delete(SERVER) and store.get(SERVER) is None


def test_keyring_holds_the_token_when_available(tmp_path, monkeypatch):
    ring = FakeKeyring()
    monkeypatch.setattr(tokens, "_keyring", lambda: ring)
    store = TokenStore(tmp_path / "tokens.json")
    store.save(SERVER, Secret(TOKEN), {"token_id": "t1"})
    assert TOKEN not in (tmp_path / "tokens.json").read_text()
    assert ring.items == {("difytui", SERVER): TOKEN}
    assert store.get(SERVER).reveal() == TOKEN and store.storage == "the OS keyring"
    store.delete(SERVER)
    assert ring.items == {}


def test_a_failing_keyring_falls_back_to_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tokens, "_keyring", lambda: FakeKeyring(fail=True))
    store = TokenStore(tmp_path / "tokens.json")
    store.save(SERVER, Secret(TOKEN), {})
    assert json.loads((tmp_path / "tokens.json").read_text())["servers"][SERVER]["storage"] == "file"
    assert store.get(SERVER).reveal() == TOKEN


def test_dify_token_env_var_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFY_TOKEN", "dfoa_from_env")
    assert TokenStore(tmp_path / "tokens.json", use_keyring=False).get(SERVER).reveal() == "dfoa_from_env"


@pytest.mark.parametrize("content", ["not json", '{"servers": 3}'])
def test_an_unreadable_token_file_is_ignored_not_fatal(tmp_path, content):
    path = tmp_path / "tokens.json"
    path.write_text(content)
    assert TokenStore(path, use_keyring=False).get(SERVER) is None


def test_a_keyring_that_fails_to_read_means_not_logged_in(tmp_path, monkeypatch):
    ring = FakeKeyring()
    monkeypatch.setattr(tokens, "_keyring", lambda: ring)
    store = TokenStore(tmp_path / "tokens.json")
    store.save(SERVER, Secret(TOKEN), {})

    def locked(*args):
        raise RuntimeError("keyring locked")

    ring.get_password = locked
    assert store.get(SERVER) is None
