"""The CLI as a new user meets it (issue 10, point 16): the real main() against the simulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from difytui.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path, sim):
    """The shared config, as a Path (these tests edit it)."""
    path = tmp_path / "config.toml"
    path.write_text(sim.config_toml("test", user="cli"))
    return path


# -- --demo with --workspace ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["apps"], []])
def test_demo_rejects_a_workspace_name(capsys, monkeypatch, command):
    import difytui.tui

    opened = []
    monkeypatch.setattr(difytui.tui, "run", lambda **kw: opened.append(kw) or 0)  # never the real console
    code, out, err = run(capsys, "--demo", "--workspace", "nope", *command)
    assert code == 2 and out == "" and not opened
    assert "--demo" in err and "nope" in err and "Traceback" not in err


# -- apps with unavailable apps ------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_apps_exits_1_and_names_the_unavailable_apps(capsys, config, sim, as_json):
    text = config.read_text()
    key = text.split('[workspaces.test.apps.copywriter]\napi_key = "')[1].split('"')[0]
    config.write_text(text.replace(key, "app-not-a-real-key"))
    code, out, err = run(capsys, "--config", str(config), "apps", *(["--json"] if as_json else []))
    assert code == 1
    assert "support-bot" in out  # the rest is still listed
    assert f"1 of {len(sim.apps_config())} app(s) unavailable: copywriter" in err


def test_apps_with_every_app_available_exits_0(capsys, config):
    code, _out, err = run(capsys, "--config", str(config), "apps")
    assert code == 0 and "unavailable" not in err


# -- Ctrl+C during a chat ------------------------------------------------------------------------


def test_ctrl_c_during_a_chat_says_which_conversation_to_continue(config, sim):
    sim.add_fault("/v1/chat-messages", "hold", after=1)  # held after its first event until stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "difytui", "--config", str(config), "invoke", "support-bot", "-q", "hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"continue with --conversation {first['conversation_id']}" in err
    assert "Traceback" not in err


# -- invoke --text -------------------------------------------------------------------------------


def test_text_prints_only_the_chat_answer(capsys):
    code, out, err = run(capsys, "--demo", "invoke", "support-bot", "-q", "hello", "--text")
    assert code == 0, err
    assert out.startswith("## Re: hello\n") and out.endswith("\n")
    assert "{" not in out.splitlines()[0] and '"event"' not in out
    assert "continue with --conversation" in err  # hints stay on stderr


def test_text_makes_escape_sequences_inert(capsys):
    # The support bot echoes the query into its answer: server text with an ESC sequence.
    code, out, _err = run(capsys, "--demo", "invoke", "support-bot", "-q", "\x1b[2Jboom\x9b", "--text")
    assert code == 0
    assert "\x1b" not in out and "\x9b" not in out and "␛[2Jboom" in out


@pytest.mark.parametrize("blocking", [False, True])
def test_text_prints_a_workflows_outputs(capsys, blocking):
    argv = ["--demo", "invoke", "report-builder", "-i", "topic=Streaming", "--text"]
    code, out, err = run(capsys, *argv, *(["--blocking"] if blocking else []))
    assert code == 0, err
    assert out.strip() and '"event"' not in out and not out.startswith("{")
    assert "Streaming" in out


def test_text_prints_a_blocking_completion(capsys):
    argv = ["--demo", "invoke", "copywriter", "-i", "product_name=Kettle", "-i", "brief=Boils", "--blocking"]
    code, out, err = run(capsys, *argv, "--text")
    assert code == 0, err
    assert out.strip() and not out.startswith("{") and out.endswith("\n")


# -- a first config ------------------------------------------------------------------------------


def test_the_no_config_error_offers_config_init_which_writes_a_starter_file(capsys, tmp_path):
    code, _out, err = run(capsys, "apps")
    assert code == 2 and "difytui config init" in err
    code, _out, err = run(capsys, "config", "init")
    assert code == 0, err
    written = tmp_path / "config" / "config.toml"
    assert str(written) in err
    assert "[workspaces." in written.read_text() and os.stat(written).st_mode & 0o777 == 0o600
    code, _out, err = run(capsys, "config", "init")
    assert code == 2 and "already exists" in err and "--force" in err


def test_config_init_writes_where_config_points(capsys, tmp_path):
    target = tmp_path / "elsewhere" / "my.toml"
    code, _out, err = run(capsys, "--config", str(target), "config", "init")
    assert code == 0, err
    assert target.read_text().startswith("# difytui configuration")
