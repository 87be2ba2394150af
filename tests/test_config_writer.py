"""config_writer: style-preserving upserts, atomic 0600 writes, validation before replacing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from difytui.config import load_config
from difytui.config_writer import (
    AppUpdate,
    WorkspaceUpdate,
    apply_update,
    check_writable,
    existing_apps,
    load_document,
    upsert_env_file,
    write_config,
)
from difytui.errors import ConfigError
from difytui.secrets import Secret

HAND_WRITTEN = """\
# my difytui config — keep this comment
default_workspace = "local"

[workspaces.local]   # the laptop
base_url = "http://localhost/v1"  # nginx in front

# the support bot, renamed by hand
[workspaces.local.apps.helpdesk]
app_uuid = "uuid-1"
name = "Support Bot"
api_key_env = "HELPDESK_KEY"  # from my shell

[workspaces.local.apps.old]
app_uuid = "uuid-2"
name = "Old"
api_key = "app-oldoldoldoldoldold"

[workspaces.other]
base_url = "http://other/v1"

[workspaces.other.apps]
bot = { api_key_cmd = "pass show other" }

[keymap]
quit = "ctrl+q"
"""


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_file_is_created_0600_with_its_directory(tmp_path):
    path = tmp_path / "deep" / "dir" / "config.toml"
    doc = load_document(path)
    update = WorkspaceUpdate(
        name="dify",
        settings={"console_url": "http://c", "console_email": "a@b.c", "workspace_id": "w1"},
        defaults={"base_url": "http://c/v1"},
        apps=[AppUpdate("bot", "u1", "Bot", ("api_key", Secret("app-1234567890abcdef")))],
    )
    apply_update(doc, update)
    write_config(path, doc)
    assert _mode(path) == 0o600
    config = load_config(path)
    assert config.default_workspace == "dify"
    ws = config.workspace()
    assert ws.base_url == "http://c/v1" and ws.workspace_id == "w1" and ws.console_email == "a@b.c"
    assert ws.apps["bot"].key().reveal() == "app-1234567890abcdef"
    assert ws.apps["bot"].app_uuid == "u1"
    assert not list(path.parent.glob(".*.tmp"))


def test_upsert_keeps_comments_other_workspaces_keymap_and_user_key_sources(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    doc = load_document(path)
    assert existing_apps(doc, "local")["helpdesk"]["app_uuid"] == "uuid-1"
    update = WorkspaceUpdate(
        name="local",
        settings={"console_url": "http://c", "workspace_id": "w1"},
        defaults={"base_url": "http://ignored/v1"},
        apps=[
            AppUpdate("helpdesk", "uuid-1", "Support Bot v2"),  # key source kept
            AppUpdate("old", "uuid-2", "Old", deleted=True),
            AppUpdate("faq", "uuid-3", "FAQ", ("api_key_env", "DIFY_KEY_LOCAL_FAQ")),
        ],
    )
    apply_update(doc, update)
    write_config(path, doc)
    text = path.read_text(encoding="utf-8")
    for kept in (
        "# my difytui config — keep this comment",
        "[workspaces.local]   # the laptop",
        'base_url = "http://localhost/v1"  # nginx in front',
        "# the support bot, renamed by hand",
        'api_key_env = "HELPDESK_KEY"  # from my shell',
        'bot = { api_key_cmd = "pass show other" }',
        '[keymap]\nquit = "ctrl+q"',
    ):
        assert kept in text
    config = load_config(path, env={"HELPDESK_KEY": "app-x", "DIFY_KEY_LOCAL_FAQ": "app-y"})
    local = config.workspace("local")
    assert local.base_url == "http://localhost/v1"  # the user's base_url wins over the default
    assert local.console_url == "http://c"
    assert local.apps["helpdesk"].name == "Support Bot v2"
    assert local.apps["helpdesk"].api_key_env == "HELPDESK_KEY"
    assert local.apps["old"].deleted is True
    assert local.apps["faq"].api_key_env == "DIFY_KEY_LOCAL_FAQ"
    assert config.keymap == {"quit": "ctrl+q"}
    assert config.workspace("other").apps["bot"].api_key_cmd == "pass show other"
    # A second identical update changes nothing.
    apply_update(doc, update)
    write_config(path, doc)
    assert path.read_text(encoding="utf-8") == text
    # An app that comes back loses its deleted mark.
    apply_update(doc, WorkspaceUpdate(name="local", apps=[AppUpdate("old", "uuid-2", "Old")]))
    write_config(path, doc)
    assert "deleted" not in path.read_text(encoding="utf-8")


def test_an_update_that_breaks_the_config_is_not_written(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    doc = load_document(path)
    apply_update(doc, WorkspaceUpdate(name="local", settings={"base_url": "not a url"}))
    with pytest.raises(ConfigError, match="the new config would be invalid"):
        write_config(path, doc)
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN
    assert not list(tmp_path.glob(".*.tmp"))


def test_env_file_upsert_is_0600_and_keeps_other_lines(tmp_path):
    path = tmp_path / "difytui-keys.env"
    upsert_env_file(path, {"A_KEY": Secret("app-aaa'quote")}, header="keys\nsource me")
    path.write_text(path.read_text() + "export MINE=1\n")
    upsert_env_file(path, {"A_KEY": Secret("app-new"), "B_KEY": Secret("app-bbb")})
    assert _mode(path) == 0o600
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# keys", "# source me"]
    assert "export A_KEY='app-new'" in lines and "export B_KEY='app-bbb'" in lines
    assert "export MINE=1" in lines
    assert sum(line.startswith("export A_KEY=") for line in lines) == 1


# --- failures are ConfigErrors naming the file, found early by check_writable ----------------------


def _doc_with_one_app():
    doc = load_document(Path("/nonexistent/config.toml"))
    apply_update(
        doc,
        WorkspaceUpdate(
            name="dify",
            defaults={"base_url": "http://c/v1"},
            apps=[AppUpdate("bot", "u1", "Bot", ("api_key", Secret("app-1234567890abcdef")))],
        ),
    )
    return doc


@pytest.mark.parametrize(
    "where",
    [
        lambda tmp: Path("/proc/difytui-test/config.toml"),  # a directory that cannot be created
        lambda tmp: Path("/proc/difytui-test.toml"),  # a directory that takes no new files
        lambda tmp: tmp / "a-file" / "config.toml",  # the "directory" is a regular file
        lambda tmp: tmp / "a-file" / "deeper" / "config.toml",
    ],
)
def test_write_failures_are_config_errors_with_the_file_and_reason(tmp_path, where):
    (tmp_path / "a-file").write_text("not a directory")
    path = where(tmp_path)
    for attempt in (
        lambda: check_writable(path),
        lambda: check_writable(path, toml=False),
        lambda: write_config(path, _doc_with_one_app()),
        lambda: upsert_env_file(path, {"K": Secret("app-k")}),
    ):
        with pytest.raises(ConfigError) as failed:
            attempt()
        message = str(failed.value)
        assert message.startswith(f"{path}: cannot write the ") and "\n" not in message
        assert "app-1234567890abcdef" not in message and "app-k" not in message


def test_a_stale_temporary_that_cannot_be_removed_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    (tmp_path / f".config.toml.{os.getpid()}.tmp").mkdir()  # in the way of the temporary file
    with pytest.raises(ConfigError, match=r"cannot create files in .*: Is a directory"):
        check_writable(path)
    with pytest.raises(ConfigError, match="cannot write the config file"):
        write_config(path, load_document(path))
    with pytest.raises(ConfigError, match="cannot write the file"):
        upsert_env_file(tmp_path / "config.toml", {"K": Secret("app-k")})
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN


def test_check_writable_checks_the_file_and_leaves_nothing_behind(tmp_path):
    deep = tmp_path / "new" / "dir" / "config.toml"
    check_writable(deep)  # creatable: fine, and the directories it tried are gone again
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "config.toml"
    existing.write_text(HAND_WRITTEN, encoding="utf-8")
    check_writable(existing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
    existing.write_text("[workspaces\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        check_writable(existing)
    check_writable(existing, toml=False)  # an env file need not be TOML …
    existing.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        check_writable(existing, toml=False)  # … but must be text
    with pytest.raises(ConfigError, match="not a regular file"):
        check_writable(tmp_path)


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from difytui import config

    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(config, "load_config", interrupted)  # Ctrl+C while validating the new text
    with pytest.raises(KeyboardInterrupt):
        write_config(path, _doc_with_one_app())
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
