"""`difytui workspace import` end to end against the simulator's console API over loopback HTTP.

The `__Host-` cookie variant and older servers' login cannot be produced over http loopback: those
few tests use httpx.MockTransport.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import sys
from pathlib import Path

import httpx
import pytest

from difytui.cli import main
from difytui.client import Dify
from difytui.config import load_config
from difytui.console import ConsoleAPIError, ConsoleSession
from difytui.errors import DifyProtocolError
from difytui.sim.workspace import CONSOLE_ONLY_APPS

DEMO = "Demo Workspace"
PASSWORD_MARK = "difytui-demo"  # the simulator's password: must never show up anywhere

HAND_WRITTEN = """\
# my own config: this comment must survive every import
[workspaces.laptop]   # hand-written
base_url = "http://localhost/v1"

[workspaces.laptop.apps.bot]
api_key_env = "BOT_KEY"

[keymap]
quit = "ctrl+q"
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def run_import(sim, config: Path, *argv: str, password: str | None = None, monkeypatch=None) -> int:
    stdin = io.StringIO((sim.account_password if password is None else password) + "\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    base = ["workspace", "import", "--config", str(config), "--console-url", sim.console_url]
    return main([*base, "--email", sim.account_email, "--password-stdin", *argv])


def uuid_of(sim, slug: str) -> str:
    return sim.directory.by_slug(slug).uuid


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_import_logs_in_pages_sends_csrf_everywhere_and_reuses_keys(sim, config, capsys, monkeypatch):
    sim.max_page_size = 2
    code = run_import(sim, config, "--dify-workspace", DEMO, "--all", monkeypatch=monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0, err

    # The listing: grouped by interface with mode badges; keys masked.
    assert out.index("\nChat\n") < out.index("\nWorkflow\n") < out.index("\nCompletion\n")
    assert "Trip Planner [chatflow]" in out and "Travel Agent [agent]" in out and "FAQ Bot [chatbot]" in out
    assert "Drafts Lab [text generator] — API disabled, needs a new key" in out

    # Login with a Base64 password, then X-CSRF-Token on every call (GETs included).
    console = sim.console_requests
    assert console[0].path == "/console/api/login" and console[0].json["password"] != sim.account_password
    later = console[1:]
    assert later and all(r.headers.get("x-csrf-token") for r in later)
    assert all(r.csrf_ok for r in later if r.path != "/console/api/logout")  # logout needs no session
    pages = [int(r.query["page"]) for r in later if r.path == "/console/api/apps"]
    listed = len(sim.directory.apps_in(sim.directory.current_workspace_id))
    assert listed > 4 and pages == list(range(1, (listed + 1) // 2 + 1))  # two apps per page
    assert console[-1].path == "/console/api/logout"

    # Without --yes nothing is created: the five demo apps come in with their existing keys.
    assert sim.created_keys == []
    assert "faq-bot: not imported: it has no API key; creating one needs confirmation (--yes)" in err
    assert mode(config) == 0o600
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# my own config: this comment must survive every import\n")
    assert "[workspaces.laptop]   # hand-written" in text and '[keymap]\nquit = "ctrl+q"' in text
    ws = load_config(config).workspace("demo-workspace")
    assert ws.console_url == sim.console_url and ws.console_email == sim.account_email
    assert ws.workspace_id == sim.directory.current_workspace_id
    assert ws.base_url == sim.base_url
    assert {app_id: e.key().reveal() for app_id, e in ws.apps.items()} == sim.apps_config()
    assert ws.apps["trip-planner"].app_uuid == uuid_of(sim, "trip-planner")
    assert ws.apps["trip-planner"].name == "Trip Planner"


def test_keys_are_created_only_with_yes_and_the_workspace_then_runs(sim, config, capsys, monkeypatch):
    assert (
        run_import(sim, config, "--dify-workspace", DEMO, "--apps", "support-bot", monkeypatch=monkeypatch)
        == 0
    )
    assert sim.created_keys == []
    code = run_import(
        sim, config, "--workspace", "demo-workspace", "--apps", "faq-bot", "--yes", monkeypatch=monkeypatch
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [uuid for uuid, _ in sim.created_keys] == [uuid_of(sim, "faq-bot")]
    created = sim.created_keys[0][1]
    assert created not in out + err  # shown masked at most

    ws = load_config(config).workspace("demo-workspace")
    assert ws.apps["faq-bot"].key().reveal() == created
    with Dify(workspace=ws) as dify:
        for app_id in ("support-bot", "faq-bot"):  # a reused key and a created key
            answer = dify.app.chat.invoke(app_id, "hello", {"product": "difytui"}, response_mode="blocking")
            assert answer["answer"], app_id


def test_reimport_adds_new_apps_marks_gone_ones_and_keeps_user_edits(sim, config, capsys, monkeypatch):
    first = ["--dify-workspace", DEMO, "--apps", "support-bot,copywriter,report-builder"]
    assert run_import(sim, config, *first, monkeypatch=monkeypatch) == 0
    # The user renames an app id, switches a key source to an env var and comments the file.
    text = config.read_text(encoding="utf-8")
    copywriter_key = sim.api_keys["copywriter"]
    text = text.replace(
        "[workspaces.demo-workspace.apps.support-bot]",
        "# renamed by me\n[workspaces.demo-workspace.apps.helpdesk]",
    )
    text = text.replace(f'api_key = "{copywriter_key}"', 'api_key_env = "MY_COPY_KEY"  # mine')
    config.write_text(text, encoding="utf-8")
    # Report Builder disappears from Dify.
    sim.directory.apps.pop(uuid_of(sim, "report-builder"))

    code = run_import(sim, config, "--workspace", "demo-workspace", "--all", "--yes", monkeypatch=monkeypatch)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "report-builder: gone from Dify, marked deleted = true" in err
    text = config.read_text(encoding="utf-8")
    assert "# renamed by me\n[workspaces.demo-workspace.apps.helpdesk]" in text
    assert 'api_key_env = "MY_COPY_KEY"  # mine' in text
    assert HAND_WRITTEN.splitlines()[0] in text
    ws = load_config(config, env={"MY_COPY_KEY": copywriter_key}).workspace("demo-workspace")
    assert "support-bot" not in ws.apps  # matched by app_uuid: no duplicate of the renamed app
    assert ws.apps["helpdesk"].app_uuid == uuid_of(sim, "support-bot")
    assert ws.apps["copywriter"].api_key_env == "MY_COPY_KEY"
    assert ws.apps["report-builder"].deleted is True  # kept, only marked
    new = {"faq-bot", "release-notes", "trip-planner", "travel-agent"}
    assert new <= set(ws.apps)
    assert "drafts-lab" not in ws.apps  # API disabled and no --enable-api
    assert load_config(config).workspace("laptop").apps["bot"].api_key_env == "BOT_KEY"
    # A third run with nothing new changes nothing and creates nothing.
    created = len(sim.created_keys)
    assert (
        run_import(sim, config, "--workspace", "demo-workspace", "--all", "--yes", monkeypatch=monkeypatch)
        == 0
    )
    assert config.read_text(encoding="utf-8") == text
    assert len(sim.created_keys) == created


def test_a_disabled_api_is_enabled_only_on_request(sim, config, capsys, monkeypatch):
    drafts = sim.directory.by_slug("drafts-lab")
    args = ["--dify-workspace", DEMO, "--apps", "Drafts Lab", "--yes"]
    assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 0
    assert "drafts-lab: not imported: its Service API is disabled in Dify (enable it with --enable-api)" in (
        capsys.readouterr().err
    )
    assert drafts.enable_api is False and sim.created_keys == []
    assert run_import(sim, config, *args, "--enable-api", monkeypatch=monkeypatch) == 0
    assert drafts.enable_api is True
    enables = [r for r in sim.console_requests if r.path.endswith("/api-enable")]
    assert [r.json for r in enables] == [{"enable_api": True}]
    ws = load_config(config).workspace("demo-workspace")
    with Dify(workspace=ws) as dify:
        assert dify.app.info("drafts-lab")["mode"] == "completion"


def test_keys_in_an_env_file_or_behind_a_command(sim, config, capsys, monkeypatch):
    args = ["--dify-workspace", DEMO, "--apps", "support-bot,faq-bot", "--yes"]
    assert run_import(sim, config, *args, "--keys", "env", monkeypatch=monkeypatch) == 0
    err = capsys.readouterr().err
    env_file = config.parent / "difytui-keys.env"
    assert mode(env_file) == 0o600 and f". {env_file}" in err
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in env_file.read_text().splitlines()
        if line.startswith("export ")
    )
    values = {k: v.strip("'") for k, v in values.items()}
    ws = load_config(config, env=values).workspace("demo-workspace")
    assert ws.apps["support-bot"].api_key_env == "DIFY_KEY_DEMO_WORKSPACE_SUPPORT_BOT"
    assert ws.apps["support-bot"].key().reveal() == sim.api_keys["support-bot"]
    assert ws.apps["faq-bot"].key().reveal() == sim.created_keys[0][1]

    staging = ["--dify-workspace", "Staging", "--all", "--yes", "--key-cmd", "pass show dify/{app}"]
    assert run_import(sim, config, *staging, monkeypatch=monkeypatch) == 0
    out, err = capsys.readouterr()
    ws = load_config(config).workspace("staging")
    assert ws.apps["support-bot-staging"].api_key_cmd == "pass show dify/support-bot-staging"
    assert "`pass show dify/support-bot-staging` must print the key of Support Bot (staging)" in err
    for _uuid, token in sim.created_keys:
        assert token not in out + err
    assert "api_key =" not in config.read_text(encoding="utf-8")  # no key ended up in the config


def test_wrong_password_is_exit_1_with_dify_message(sim, config, capsys, monkeypatch):
    code = run_import(sim, config, "--all", password="not-the-password", monkeypatch=monkeypatch)
    _out, err = capsys.readouterr()
    assert code == 1
    assert "Invalid email or password." in err
    assert "API key" not in err  # not the Service API's 401 hint
    assert "not-the-password" not in err
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN


def test_the_password_never_appears_in_output_logs_or_errors(sim, config, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    assert run_import(sim, config, "--dify-workspace", DEMO, "--all", "--yes", monkeypatch=monkeypatch) == 0
    out, err = capsys.readouterr()
    seen = out + err + caplog.text + config.read_text(encoding="utf-8")
    assert sim.account_password not in seen
    for key in (*sim.api_keys.values(), *(t for _, t in sim.created_keys)):
        assert key not in out + err + caplog.text

    session = ConsoleSession(sim.console_url)
    with pytest.raises(ConsoleAPIError) as failed:
        session.login(sim.account_email, "hunter2-very-secret")
    session.close()
    assert "hunter2" not in str(failed.value) + repr(failed.value) + repr(session)


def test_without_a_terminal_missing_answers_are_exit_2(sim, config, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    base = ["workspace", "import", "--config", str(config), "--console-url", sim.console_url]
    assert main([*base, "--email", sim.account_email, "--all"]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert run_import(sim, config, "--all", monkeypatch=monkeypatch) == 2  # two workspaces
    assert "choose with --dify-workspace" in capsys.readouterr().err
    assert run_import(sim, config, "--dify-workspace", DEMO, monkeypatch=monkeypatch) == 2
    assert "--all or --apps" in capsys.readouterr().err
    assert run_import(sim, config, "--dify-workspace", DEMO, "--apps", "nope", monkeypatch=monkeypatch) == 2
    assert "no app 'nope'" in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_it_asks_for_everything(sim, config, capsys, monkeypatch):
    from difytui import cli_workspace

    asked: list[str] = []
    monkeypatch.setattr(
        cli_workspace.getpass,
        "getpass",
        lambda prompt, stream=None: asked.append(prompt) or sim.account_password,
    )
    # workspace: the default; apps by number and id (one twice); create keys: y; enable API: n; keys: config
    monkeypatch.setattr(sys, "stdin", FakeTerminal("\n1,faq-bot,drafts-lab\ny\nn\n\n"))
    base = ["workspace", "import", "--config", str(config), "--console-url", sim.console_url]
    assert main([*base, "--email", sim.account_email]) == 0
    err = capsys.readouterr().err
    assert asked == ["Password (not shown, never stored): "]
    assert "Workspace [1]: " in err and "Create a new API key in Dify for faq-bot, drafts-lab? [y/N]: " in err
    assert "drafts-lab: not imported: its Service API is disabled" in err
    assert [uuid for uuid, _ in sim.created_keys] == [uuid_of(sim, "faq-bot")]
    assert set(load_config(config).workspace("demo-workspace").apps) == {"faq-bot"}


# --- MockTransport: what loopback http cannot show ---------------------------------------------


def test_host_prefixed_cookies_on_https_and_restx_abort_bodies():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/console/api/login":
            cookies = [
                "__Host-access_token=acc; Path=/; Secure; HttpOnly; SameSite=Lax",
                "__Host-csrf_token=csrf-123; Path=/; Secure; SameSite=Lax",
                "__Host-refresh_token=ref; Path=/; Secure; HttpOnly; SameSite=Lax",
            ]
            return httpx.Response(
                200, json={"result": "success"}, headers=[("Set-Cookie", c) for c in cookies]
            )
        if request.headers.get(
            "x-csrf-token"
        ) != "csrf-123" or "__Host-access_token=acc" not in request.headers.get("cookie", ""):
            return httpx.Response(
                401, json={"code": "unauthorized", "message": "CSRF token is missing or invalid."}
            )
        if path == "/console/api/workspaces":
            return httpx.Response(200, json={"workspaces": [{"id": "w1", "name": "Main", "current": True}]})
        if path.endswith("/api-keys") and request.method == "GET":
            return httpx.Response(404, json={"message": "App not found."})
        if path.endswith("/api-keys"):
            body = {
                "message": "Cannot create more than 10 API keys for this resource type.",
                "custom": "max_keys_exceeded",
            }
            return httpx.Response(400, json=body)
        return httpx.Response(404, text="<html>not found</html>")

    with ConsoleSession("https://dify.example.com/apps", transport=httpx.MockTransport(handler)) as session:
        assert session.console_url == "https://dify.example.com"
        session.login("a@b.c", "pässword")
        assert json.loads(seen[0].content)["password"] == "cMOkc3N3b3Jk"  # Base64 of the UTF-8 bytes
        assert session.workspaces() == [{"id": "w1", "name": "Main", "current": True}]
        with pytest.raises(ConsoleAPIError) as missing:
            session.api_keys("x")
        assert missing.value.status == 404 and missing.value.message == "App not found."
        with pytest.raises(ConsoleAPIError) as full:
            session.create_api_key("x")
        assert full.value.code == "max_keys_exceeded"


def test_older_servers_plain_password_and_bearer_tokens():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"X-Version": "1.8.0"}
        if request.url.path == "/console/api/login":
            if json.loads(request.content)["password"] != "plain":
                return httpx.Response(
                    401,
                    json={"code": "authentication_failed", "message": "Invalid email or password."},
                    headers=headers,
                )
            data = {"access_token": "jwt-access", "refresh_token": "jwt-refresh"}
            return httpx.Response(200, json={"result": "success", "data": data}, headers=headers)
        assert request.headers["authorization"] == "Bearer jwt-access"
        return httpx.Response(200, json={"workspaces": []}, headers=headers)

    with ConsoleSession("http://old.example", transport=httpx.MockTransport(handler)) as session:
        session.login("a@b.c", "plain")
        assert session.workspaces() == []
        assert "jwt-access" not in repr(session.__dict__)
    assert len(seen) == 3  # Base64 refused, plain accepted, then the call


def test_login_fail_result_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"result": "fail", "data": "workspace not found, please contact system admin"}
        )

    session = ConsoleSession("http://x.example", transport=httpx.MockTransport(handler))
    with session, pytest.raises(ConsoleAPIError, match="workspace not found"):
        session.login("a@b.c", "pw")


# --- the TUI screen ------------------------------------------------------------------------------


async def test_tui_import_screen_masks_the_password_and_imports(sim, tmp_path):
    from textual.app import App
    from textual.widgets import Button, Checkbox, Input, SelectionList

    from difytui.tui.screens.import_console import ImportConsoleScreen, ImportOutcome

    path = tmp_path / "tui" / "config.toml"
    results: list[ImportOutcome | None] = []

    from difytui.tui.app import styles_dir

    class Host(App):
        CSS_PATH = styles_dir() / "import.tcss"

        def on_mount(self) -> None:
            self.push_screen(ImportConsoleScreen(path, None), results.append)

    app = Host()
    async with app.run_test(size=(120, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, ImportConsoleScreen)
        screen.query_one("#import-url", Input).value = sim.console_url
        screen.query_one("#import-email", Input).value = sim.account_email
        screen.query_one("#import-password", Input).focus()
        await pilot.press(*sim.account_password)
        await pilot.pause()
        shown = app.export_screenshot()
        assert sim.account_password not in shown and "•" * len(sim.account_password) in shown
        await pilot.press("enter")

        async def until(predicate, what):
            for _ in range(500):
                if predicate():
                    return
                await pilot.pause(0.02)
            raise AssertionError(f"timed out: {what}: {screen.query_one('#import-status').render()}")

        async def press_go():
            await pilot.pause()  # let the layout settle after a step showed or hid widgets
            screen.query_one("#import-go", Button).press()
            await pilot.pause()

        # Two workspaces: the screen asks; the current one (Demo Workspace) is preselected.
        await until(lambda: not screen.query_one("#import-workspace").has_class("hidden"), "workspace choice")
        assert screen.query_one("#import-password", Input).value == ""
        await press_go()
        await until(lambda: screen.plan is not None, "app list")
        apps = screen.query_one("#import-apps", SelectionList)
        apps.select(uuid_of(sim, "support-bot"))
        apps.select(uuid_of(sim, "faq-bot"))
        screen.query_one("#import-create", Checkbox).value = True
        await press_go()
        await until(lambda: results, "import")

    outcome = results[0]
    assert outcome is not None and outcome.workspace == "demo-workspace"
    assert [uuid for uuid, _ in sim.created_keys] == [uuid_of(sim, "faq-bot")]
    assert mode(path) == 0o600
    ws = load_config(path).workspace("demo-workspace")
    assert set(ws.apps) == {"support-bot", "faq-bot"}
    assert ws.apps["support-bot"].key().reveal() == sim.api_keys["support-bot"]
    assert CONSOLE_ONLY_APPS["faq-bot"]["uuid"] == ws.apps["faq-bot"].app_uuid


# --- a config that cannot be written fails before anything happens in Dify ----------------------


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("keys", [["--keys", "config"], ["--key-cmd", "pass show dify/{app}"]])
def test_an_unwritable_config_fails_before_login_and_before_any_key(sim, tmp_path, capsys, monkeypatch, keys):
    (tmp_path / "a-file").write_text("")
    for config in (Path("/proc/difytui-test.toml"), tmp_path / "a-file" / "config.toml"):
        args = ["--dify-workspace", DEMO, "--all", "--yes", "--enable-api", *keys]
        assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 2
        line = _one_line(capsys.readouterr().err)
        assert line.startswith(f"difytui: {config}: cannot write the config file")
        assert sim.console_requests == [] and sim.created_keys == []


def test_an_env_file_that_cannot_be_written_fails_before_login(sim, config, capsys, monkeypatch):
    (config.parent / "difytui-keys.env").mkdir()
    args = ["--dify-workspace", DEMO, "--all", "--yes", "--keys", "env"]
    assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 2
    line = _one_line(capsys.readouterr().err)
    assert "difytui-keys.env: cannot write the file: it is not a regular file" in line
    assert sim.console_requests == [] and sim.created_keys == []
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN


def test_keys_env_chosen_at_the_prompt_is_checked_before_any_key_is_created(sim, config, capsys, monkeypatch):
    from difytui import cli_workspace

    (config.parent / "difytui-keys.env").mkdir()
    monkeypatch.setattr(cli_workspace.getpass, "getpass", lambda prompt, stream=None: sim.account_password)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("\nfaq-bot\ny\nenv\n"))  # create a key, keep it in env
    base = ["workspace", "import", "--config", str(config), "--console-url", sim.console_url]
    assert main([*base, "--email", sim.account_email]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "difytui-keys.env: cannot write the file" in err
    assert sim.created_keys == [] and sim.console_requests[-1].path == "/console/api/logout"


def test_a_write_failing_after_keys_were_created_is_exit_2_and_names_them(sim, config, capsys, monkeypatch):
    from difytui import importer

    real_execute = importer.execute
    blocker = config.parent / f".config.toml.{os.getpid()}.tmp"

    def execute_then_block_the_write(*args, **kwargs):
        result = real_execute(*args, **kwargs)
        blocker.mkdir()  # in the way of the temporary file: the write fails after the check passed
        return result

    monkeypatch.setattr(importer, "execute", execute_then_block_the_write)
    args = ["--dify-workspace", DEMO, "--apps", "faq-bot", "--yes", "--key-cmd", "pass show {app}"]
    assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first, second = err.strip().splitlines()
    assert first.startswith(f"difytui: {config}: cannot write the config file: cannot create files in")
    assert "the keys created for faq-bot stay in Dify" in second and "reuses them" in second
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN
    # The next run reuses that key instead of creating another one.
    monkeypatch.setattr(importer, "execute", real_execute)
    blocker.rmdir()
    assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 0
    assert len(sim.created_keys) == 1


def test_default_config_path_expands_the_home_in_difytui_config(sim, tmp_path, capsys, monkeypatch):
    from difytui.importer import default_config_path

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIFYTUI_CONFIG", "~/difytui/config.toml")
    assert default_config_path() == tmp_path / "home" / "difytui" / "config.toml"
    assert default_config_path("~/other.toml") == tmp_path / "home" / "other.toml"
    monkeypatch.setattr(sys, "stdin", io.StringIO(sim.account_password + "\n"))
    base = ["workspace", "import", "--console-url", sim.console_url, "--email", sim.account_email]
    assert main([*base, "--password-stdin", "--dify-workspace", DEMO, "--apps", "support-bot"]) == 0
    assert "support-bot" in load_config(tmp_path / "home" / "difytui" / "config.toml").workspace().apps
    monkeypatch.delenv("DIFYTUI_CONFIG")
    assert default_config_path() == tmp_path / "config" / "config.toml"  # DIFYTUI_CONFIG_DIR (conftest)


def test_an_app_already_in_the_config_by_its_key_is_not_imported_twice(sim, config, capsys, monkeypatch):
    config.write_text(
        HAND_WRITTEN + f'\n[workspaces.mine]\nbase_url = "{sim.base_url}"\n\n'
        f'[workspaces.mine.apps.helpdesk]\napi_key = "{sim.api_keys["support-bot"]}"\n',
        encoding="utf-8",
    )
    args = ["--workspace", "mine", "--dify-workspace", DEMO, "--apps", "copywriter"]
    assert run_import(sim, config, *args, monkeypatch=monkeypatch) == 0, capsys.readouterr().err
    ws = load_config(config).workspace("mine")
    assert set(ws.apps) == {"helpdesk", "copywriter"}  # no second "support-bot" table
    assert ws.apps["helpdesk"].app_uuid == uuid_of(sim, "support-bot")
    assert ws.apps["helpdesk"].key().reveal() == sim.api_keys["support-bot"]


# --- Ctrl+C: exit 130, one line, the session logged out, the config whole -------------------------


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _assert_interrupted(sim, config, err: str, says: str) -> None:
    assert says in _one_line(err)
    assert sim.console_requests[-1].path == "/console/api/logout"
    assert sim.created_keys == []
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.toml"]


def test_ctrl_c_right_after_the_login_logs_out(sim, config, capsys, monkeypatch):
    real_login = ConsoleSession.login

    def login_then_ctrl_c(self, *args, **kwargs):
        real_login(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(ConsoleSession, "login", login_then_ctrl_c)
    assert run_import(sim, config, "--dify-workspace", DEMO, "--all", monkeypatch=monkeypatch) == 130
    _assert_interrupted(sim, config, capsys.readouterr().err, "difytui: interrupted; nothing was written")


def test_ctrl_c_while_listing_logs_out(sim, config, capsys, monkeypatch):
    monkeypatch.setattr(ConsoleSession, "api_keys", _interrupt)
    assert run_import(sim, config, "--dify-workspace", DEMO, "--all", monkeypatch=monkeypatch) == 130
    _assert_interrupted(sim, config, capsys.readouterr().err, "difytui: interrupted; nothing was written")


def test_ctrl_c_at_a_prompt_ends_the_prompt_line_and_logs_out(sim, config, capsys, monkeypatch):
    from difytui import cli_workspace

    class InterruptedTerminal(FakeTerminal):
        def readline(self, *args):
            line = super().readline(*args)
            if not line:
                raise KeyboardInterrupt  # Ctrl+C at the first question nobody answered
            return line

    monkeypatch.setattr(cli_workspace.getpass, "getpass", lambda prompt, stream=None: sim.account_password)
    monkeypatch.setattr(sys, "stdin", InterruptedTerminal("\n"))  # the workspace; then the app list
    base = ["workspace", "import", "--config", str(config), "--console-url", sim.console_url]
    assert main([*base, "--email", sim.account_email]) == 130
    err = capsys.readouterr().err
    assert err.endswith("empty: none): \ndifytui: interrupted; nothing was written\n")
    assert sim.console_requests[-1].path == "/console/api/logout"
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN


def test_ctrl_c_while_writing_leaves_the_config_whole(sim, config, capsys, monkeypatch):
    from difytui import config as config_module

    monkeypatch.setattr(config_module, "load_config", _interrupt)  # write_config's validation step
    assert run_import(sim, config, "--dify-workspace", DEMO, "--all", monkeypatch=monkeypatch) == 130
    says = f"difytui: interrupted; {config} was either written completely or left as it was"
    _assert_interrupted(sim, config, capsys.readouterr().err, says)


# --- odd console answers: one readable error, never a Python traceback ---------------------------


def _odd_console(answers: dict[tuple[str, str], object]) -> ConsoleSession:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/console/api")
        if path == "/login":
            return httpx.Response(200, json={"result": "success"})
        body = answers.get((request.method, path), {"message": "not here"})
        return httpx.Response(200 if (request.method, path) in answers else 404, json=body)

    session = ConsoleSession("http://odd.example", transport=httpx.MockTransport(handler))
    session.login("a@b.c", "pw")
    return session


@pytest.mark.parametrize(
    ("call", "answers", "error", "says"),
    [
        ("workspaces", {("GET", "/workspaces"): []}, DifyProtocolError, "expected an object, got a list"),
        ("workspaces", {("GET", "/workspaces"): {"data": []}}, DifyProtocolError, "a 'workspaces' list"),
        ("apps", {("GET", "/apps"): {"data": 5, "has_more": False}}, DifyProtocolError, "got a number"),
        ("apps", {("GET", "/apps"): {"result": "fail"}}, ConsoleAPIError, "the console refused GET /apps"),
        ("app", {("GET", "/apps/u1"): ["u1"]}, DifyProtocolError, "GET /apps/u1"),
        (
            "api_keys",
            {("GET", "/apps/u1/api-keys"): {"data": {"token": "app-x"}}},
            DifyProtocolError,
            "got an object",
        ),
        (
            "create_api_key",
            {("POST", "/apps/u1/api-keys"): {"id": "k"}},
            DifyProtocolError,
            "without a 'token'",
        ),
        ("create_api_key", {("POST", "/apps/u1/api-keys"): "app-x"}, DifyProtocolError, "got a string"),
        (
            "enable_api",
            {("POST", "/apps/u1/api-enable"): {"result": "fail", "message": "App is archived."}},
            ConsoleAPIError,
            "App is archived.",
        ),
        (
            "switch_workspace",
            {
                ("GET", "/workspaces"): {"workspaces": [{"id": "w0", "current": True}]},
                ("POST", "/workspaces/switch"): {"result": "failed", "code": "forbidden"},
            },
            ConsoleAPIError,
            "forbidden",
        ),
    ],
)
def test_odd_console_answers_are_one_line_errors(call, answers, error, says):
    with _odd_console(answers) as session, pytest.raises(error) as failed:
        getattr(session, call)(*(["u1"] if call not in ("workspaces", "apps") else []))
    message = str(failed.value)
    assert says in message and "\n" not in message and "app-x" not in message


def test_odd_items_are_skipped_or_named_and_the_plan_still_builds(tmp_path):
    answers = {
        ("GET", "/workspaces"): {"workspaces": ["w1", {"name": "no id"}, {"id": 7, "name": "Seven"}]},
        ("GET", "/apps"): {
            "data": [None, {"id": ["not", "an", "id"]}, {"id": "u1", "name": "Bot", "mode": "chat"}],
            "has_more": "yes",  # not True: no second page
        },
        ("GET", "/apps/u1"): {"enable_api": True},
        ("GET", "/apps/u1/api-keys"): {"data": [{"token": None}, 3, {"id": "k", "token": "app-abc"}]},
    }
    from difytui import importer

    with _odd_console(answers) as session:
        workspaces = session.workspaces()
        assert workspaces == [{"id": "7", "name": "Seven"}]
        plan = importer.build_plan(
            session, email="a@b.c", workspace=workspaces[0], config_path=tmp_path / "config.toml"
        )
    assert [(app.id, app.uuid) for app in plan.apps] == [("bot", "u1")]
    assert [key.token.reveal() for key in plan.apps[0].keys] == ["app-abc"]
    with pytest.raises(DifyProtocolError, match="workspace without an id"):
        importer.use_workspace(session, {"name": "no id"})


# --- the account's current workspace is the same after an import as before ------------------------
# Dify's workspace switch is account-wide: left switched, the web console and every other session of
# the account would land in the imported workspace.


def _switches(sim) -> list[str]:
    return [r.json["tenant_id"] for r in sim.console_requests if r.path == "/console/api/workspaces/switch"]


def _staging(sim) -> str:
    return next(w.id for w in sim.directory.workspaces if w.name == "Staging")


def test_importing_another_workspace_switches_back_afterwards(sim, config, capsys, monkeypatch):
    home = sim.directory.current_workspace_id
    code = run_import(sim, config, "--dify-workspace", "Staging", "--all", "--yes", monkeypatch=monkeypatch)
    assert code == 0, capsys.readouterr().err
    assert sim.directory.current_workspace_id == home
    # Switched for the listing and for the key creation, back after each (not during the questions).
    assert _switches(sim) == [_staging(sim), home, _staging(sim), home]
    ws = load_config(config).workspace("staging")
    assert set(ws.apps) == {"trip-planner-staging", "support-bot-staging"}
    assert ws.workspace_id == _staging(sim)


def test_an_error_mid_import_switches_back(sim, config, capsys, monkeypatch):
    home = sim.directory.current_workspace_id
    app = uuid_of(sim, "staging-support")
    sim.add_fault(f"/console/api/apps/{app}/api-keys", "status", status=500, body='{"message": "boom"}')
    code = run_import(sim, config, "--dify-workspace", "Staging", "--all", monkeypatch=monkeypatch)
    assert code == 1
    assert "boom" in _one_line(capsys.readouterr().err)
    assert sim.directory.current_workspace_id == home
    assert _switches(sim) == [_staging(sim), home]
    assert sim.console_requests[-1].path == "/console/api/logout"


@pytest.mark.parametrize("where", ["api_keys", "create_api_key"])
def test_ctrl_c_mid_import_switches_back(sim, config, capsys, monkeypatch, where):
    home = sim.directory.current_workspace_id
    monkeypatch.setattr(ConsoleSession, where, _interrupt)
    code = run_import(sim, config, "--dify-workspace", "Staging", "--all", "--yes", monkeypatch=monkeypatch)
    assert code == 130
    assert "interrupted" in _one_line(capsys.readouterr().err)
    assert sim.directory.current_workspace_id == home
    assert _switches(sim)[-1] == home
    assert sim.console_requests[-1].path == "/console/api/logout"
    assert config.read_text(encoding="utf-8") == HAND_WRITTEN


def test_ctrl_c_during_the_switch_itself_still_switches_back(sim, config, capsys, monkeypatch):
    # The switch request reached Dify, the answer did not: the account may be switched.
    real = ConsoleSession._call

    def call(self, method, path, **kwargs):
        body = real(self, method, path, **kwargs)
        if path == "/workspaces/switch" and kwargs["json"]["tenant_id"] == _staging(sim):
            raise KeyboardInterrupt
        return body

    monkeypatch.setattr(ConsoleSession, "_call", call)
    home = sim.directory.current_workspace_id
    assert run_import(sim, config, "--dify-workspace", "Staging", "--all", monkeypatch=monkeypatch) == 130
    assert sim.directory.current_workspace_id == home


def test_importing_the_current_workspace_switches_nothing(sim, config, capsys, monkeypatch):
    assert run_import(sim, config, "--dify-workspace", DEMO, "--all", monkeypatch=monkeypatch) == 0
    assert _switches(sim) == []


async def test_tui_import_of_another_workspace_switches_back(sim, tmp_path):
    from textual.app import App
    from textual.widgets import Button, Checkbox, Input, Select, SelectionList

    from difytui.tui.app import styles_dir
    from difytui.tui.screens.import_console import ImportConsoleScreen

    home = sim.directory.current_workspace_id
    results: list = []

    class Host(App):
        CSS_PATH = styles_dir() / "import.tcss"

        def on_mount(self) -> None:
            self.push_screen(ImportConsoleScreen(tmp_path / "config.toml", None), results.append)

    app = Host()
    async with app.run_test(size=(120, 45)) as pilot:
        screen = app.screen

        async def until(predicate, what):
            for _ in range(500):
                if predicate():
                    return
                await pilot.pause(0.02)
            raise AssertionError(f"timed out: {what}: {screen.query_one('#import-status').render()}")

        screen.query_one("#import-url", Input).value = sim.console_url
        screen.query_one("#import-email", Input).value = sim.account_email
        screen.query_one("#import-password", Input).value = sim.account_password
        screen.query_one("#import-go", Button).press()
        await until(lambda: not screen.query_one("#import-workspace").has_class("hidden"), "workspaces")
        screen.query_one("#import-workspace", Select).value = _staging(sim)
        await pilot.pause()
        screen.query_one("#import-go", Button).press()
        await until(lambda: screen.plan is not None, "app list")
        # While the user ticks apps, the account is back in its own workspace.
        assert sim.directory.current_workspace_id == home
        assert _switches(sim) == [_staging(sim), home]
        screen.query_one("#import-apps", SelectionList).select(uuid_of(sim, "staging-support"))
        screen.query_one("#import-create", Checkbox).value = True
        await pilot.pause()
        screen.query_one("#import-go", Button).press()
        await until(lambda: results, "import")
    assert results[0] is not None and results[0].workspace == "staging"
    assert [uuid for uuid, _ in sim.created_keys] == [uuid_of(sim, "staging-support")]
    assert sim.directory.current_workspace_id == home
    assert _switches(sim) == [_staging(sim), home, _staging(sim), home]


async def test_tui_import_cancelled_mid_listing_switches_back_and_logs_out(sim, tmp_path):
    import threading

    from textual.app import App
    from textual.widgets import Button, Input, Select

    from difytui.tui.app import styles_dir
    from difytui.tui.screens.import_console import ImportConsoleScreen

    home = sim.directory.current_workspace_id
    results: list = []

    class Host(App):
        CSS_PATH = styles_dir() / "import.tcss"

        def on_mount(self) -> None:
            self.push_screen(ImportConsoleScreen(tmp_path / "config.toml", None), results.append)

    app = Host()
    async with app.run_test(size=(120, 45)) as pilot:
        screen = app.screen

        async def until(predicate, what):
            for _ in range(500):
                if predicate():
                    return
                await pilot.pause(0.02)
            raise AssertionError(f"timed out: {what}")

        screen.query_one("#import-url", Input).value = sim.console_url
        screen.query_one("#import-email", Input).value = sim.account_email
        screen.query_one("#import-password", Input).value = sim.account_password
        screen.query_one("#import-go", Button).press()
        await until(lambda: not screen.query_one("#import-workspace").has_class("hidden"), "workspaces")
        screen.query_one("#import-workspace", Select).value = _staging(sim)
        await pilot.pause()
        # The app listing is slow: Escape lands while the step runs, in the switched workspace.
        sim.add_fault("/console/api/apps", "delay", seconds=0.5)
        screen.query_one("#import-go", Button).press()
        await until(lambda: any(r.path == "/console/api/apps" for r in sim.requests), "the listing")
        assert sim.directory.current_workspace_id == _staging(sim)
        await pilot.press("escape")
        await until(lambda: results, "cancel")
    assert results == [None]
    # The step finishes, switches back; then the session is logged out (off the UI thread).
    for thread in [t for t in threading.enumerate() if t.name == "difytui-import-logout"]:
        thread.join(10)
    assert sim.console_requests[-1].path == "/console/api/logout"
    assert sim.directory.current_workspace_id == home
