from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

import pytest

from difytui.config import AppEntry, Config, Workspace, find_config_path, load_config
from difytui.errors import AppNotFoundError, ConfigError
from difytui.secrets import Secret

REPO = Path(__file__).resolve().parent.parent
KEY = "app-SuperSecretKey123456"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(path: Path, **env: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    return info.value


MINIMAL = f"""
[workspaces.local]
base_url = "http://localhost/v1/"

[workspaces.local.apps.bot]
api_key = "{KEY}"
"""


# --- search order -------------------------------------------------------------------------


def test_explicit_path_beats_env_and_default(tmp_path):
    explicit = write(tmp_path, MINIMAL, "explicit.toml")
    other = write(tmp_path, MINIMAL.replace("local", "other"), "other.toml")
    env = {"DIFYTUI_CONFIG": str(other), "DIFYTUI_CONFIG_DIR": str(tmp_path)}
    assert find_config_path(explicit, env) == explicit
    assert list(load_config(explicit, env=env).workspaces) == ["local"]


def test_env_var_beats_default_location(tmp_path):
    other = write(tmp_path, MINIMAL.replace("local", "other"), "other.toml")
    write(tmp_path, MINIMAL)  # the default location, shadowed
    env = {"DIFYTUI_CONFIG": str(other), "DIFYTUI_CONFIG_DIR": str(tmp_path)}
    assert find_config_path(None, env) == other
    assert list(load_config(env=env).workspaces) == ["other"]


def test_default_location_used_last(tmp_path):
    default = write(tmp_path, MINIMAL)
    env = {"DIFYTUI_CONFIG_DIR": str(tmp_path)}
    assert find_config_path(None, env) == default
    config = load_config(env=env)
    assert config.path == default
    assert config.workspace().source == str(default)


def test_default_location_missing_is_none(tmp_path):
    assert find_config_path(None, {"DIFYTUI_CONFIG_DIR": str(tmp_path)}) is None


@pytest.mark.parametrize("via_env", [False, True])
def test_named_file_missing_is_an_error(tmp_path, via_env):
    missing = tmp_path / "nope.toml"
    env = {"DIFYTUI_CONFIG": str(missing)} if via_env else {}
    with pytest.raises(ConfigError) as info:
        load_config(None if via_env else missing, env=env)
    assert info.value.path == str(missing)
    assert "not found" in str(info.value)


def test_file_wins_over_env_quick_start(tmp_path):
    write(tmp_path, MINIMAL)
    env = {"DIFYTUI_CONFIG_DIR": str(tmp_path), "DIFY_BASE_URL": "http://x/v1", "DIFY_API_KEY": KEY}
    assert list(load_config(env=env).workspaces) == ["local"]


# --- env quick start and nothing configured -----------------------------------------------


def test_env_quick_start(tmp_path):
    env = {
        "DIFYTUI_CONFIG_DIR": str(tmp_path),
        "DIFY_BASE_URL": "https://dify.example.com/v1/",
        "DIFY_API_KEY": KEY,
        "DIFY_USER": "bob",
        "DIFY_APP_ID": "helper",
    }
    config = load_config(env=env)
    ws = config.workspace()
    assert config.path is None
    assert ws.name == "env" and ws.source == "environment"
    assert ws.base_url == "https://dify.example.com/v1"
    assert ws.user == "bob"
    assert list(ws.apps) == ["helper"]
    assert ws.apps["helper"].key().reveal() == KEY
    assert KEY not in repr(config)


def test_env_quick_start_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "carol")
    env = {"DIFYTUI_CONFIG_DIR": str(tmp_path), "DIFY_BASE_URL": "http://h/v1", "DIFY_API_KEY": KEY}
    ws = load_config(env=env).workspace()
    assert list(ws.apps) == ["default"]
    assert ws.user == "difytui-carol"
    assert ws.timeout == 120.0


def test_env_quick_start_bad_url(tmp_path):
    env = {"DIFYTUI_CONFIG_DIR": str(tmp_path), "DIFY_BASE_URL": "localhost/v1", "DIFY_API_KEY": KEY}
    with pytest.raises(ConfigError, match="DIFY_BASE_URL"):
        load_config(env=env)


def test_nothing_configured_explains_options(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(env={"DIFYTUI_CONFIG_DIR": str(tmp_path)})
    text = str(info.value)
    assert str(tmp_path / "config.toml") in text
    for word in ("DIFY_BASE_URL", "DIFY_API_KEY", "--demo"):
        assert word in text


def test_default_user_falls_back(monkeypatch, tmp_path):
    def boom():
        raise OSError("no login")

    monkeypatch.setattr("getpass.getuser", boom)
    ws = load_config(write(tmp_path, MINIMAL), env={}).workspace()
    assert ws.user == "difytui-user"


# --- a full file --------------------------------------------------------------------------


def test_full_file(tmp_path):
    path = write(
        tmp_path,
        f"""
        default_workspace = "b"
        [keymap]
        "app.run" = "ctrl+r"

        [workspaces.a]
        base_url = "http://a/v1"
        [workspaces.a.apps.x]
        api_key = "{KEY}"

        [workspaces.b]
        base_url = "HTTPS://b.example/v1//"
        user = "alice"
        timeout = 5
        [workspaces.b.apps."quoted app"]
        api_key_env = "MY_KEY"
        [workspaces.b.apps.cmd]
        api_key_cmd = "echo hi"
        """,
    )
    config = load_config(path, env={"MY_KEY": " app-fromenv0000 \n"})
    assert isinstance(config, Config)
    assert config.keymap == {"app.run": "ctrl+r"}
    assert config.default_workspace == "b"
    b = config.workspace()
    assert isinstance(b, Workspace)
    assert b.base_url == "HTTPS://b.example/v1"
    assert b.user == "alice"
    assert b.timeout == 5.0 and isinstance(b.timeout, float)
    assert set(b.apps) == {"quoted app", "cmd"}
    assert b.apps["quoted app"].key().reveal() == "app-fromenv0000"
    assert config.workspace("a").apps["x"].key() == Secret(KEY)


def test_workspace_selection(tmp_path):
    two = MINIMAL + '\n[workspaces.other]\nbase_url = "http://o/v1"\n'
    config = load_config(write(tmp_path, two), env={})
    with pytest.raises(ConfigError, match="default_workspace"):
        config.workspace()
    assert config.workspace("other").name == "other"
    with pytest.raises(ConfigError) as info:
        config.workspace("nope")
    assert "local" in str(info.value) and "other" in str(info.value)
    # a single workspace is the default without naming it
    assert load_config(write(tmp_path, MINIMAL, "one.toml"), env={}).workspace().name == "local"


def test_workspace_app_lookup(tmp_path):
    ws = load_config(write(tmp_path, MINIMAL), env={}).workspace()
    assert ws.app("bot").id == "bot"
    with pytest.raises(AppNotFoundError, match="bot"):
        ws.app("missing")


def test_example_config_loads():
    config = load_config(REPO / "config.example.toml", env={"DIFY_SUMMARIZER_KEY": KEY})
    ws = config.workspace()
    assert ws.name == "local"
    assert set(ws.apps) == {"support-bot", "summarizer", "translator"}
    assert ws.apps["summarizer"].key().reveal() == KEY
    assert {"app.run", "app.stop", "chat.new", "log.raw", "answer.copy", "apps.filter"} <= set(config.keymap)
    assert "cloud" in config.workspaces


# --- errors with file:line ----------------------------------------------------------------


def test_toml_syntax_error_has_line(tmp_path):
    path = write(tmp_path, '[workspaces.local]\nbase_url = "http://x/v1"\nuser = = "a"\n')
    err = load_error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert str(err).startswith(f"{path}:3: invalid TOML")
    assert "(at line" not in str(err)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('defualt_workspace = "x"\n', 1, ["default_workspace", "allowed"]),
        (
            '[workspaces.local]\nbase_url = "http://x/v1"\nbase_ur = "y"\n',
            3,
            ["base_ur", "did you mean 'base_url'", "allowed keys: kind, base_url, user, timeout, apps"],
        ),
        (
            MINIMAL + 'apikey = "z"\n',
            6,
            ["'apikey'", "did you mean 'api_key'", "[workspaces.local.apps.bot]"],
        ),
    ],
)
def test_unknown_keys(tmp_path, text, line, words):
    err = load_error(write(tmp_path, text))
    assert err.line == line
    for word in words:
        assert word in str(err)


def test_missing_base_url_points_at_table(tmp_path):
    err = load_error(write(tmp_path, '# comment\n\n[workspaces.local]\nuser = "a"\n'))
    assert err.line == 3
    assert "base_url" in err.message


def test_missing_table_header_falls_back_to_deeper_header(tmp_path):
    err = load_error(write(tmp_path, '# x\n[workspaces.local.apps.bot]\napi_key = "app-1"\n'))
    assert err.line == 2
    assert "base_url" in err.message


@pytest.mark.parametrize(
    ("app_body", "line", "word"),
    [
        ("", 4, "has none"),
        (f'api_key = "{KEY}"\napi_key_env = "X"\n', 6, "has 2"),
    ],
)
def test_app_needs_exactly_one_key_source(tmp_path, app_body, line, word):
    text = f'[workspaces.local]\nbase_url = "http://x/v1"\n\n[workspaces.local.apps.bot]\n{app_body}'
    err = load_error(write(tmp_path, text))
    assert err.line == line
    assert word in err.message
    assert KEY not in str(err)


@pytest.mark.parametrize(
    ("line_text", "word"),
    [
        ("base_url = 42", "base_url must be a string (got an integer)"),
        ('base_url = "ftp://x/v1"', "http:// or https://"),
        ('base_url = "localhost/v1"', "http:// or https://"),
        ('timeout = "soon"', "timeout must be a number"),
        ("timeout = true", "timeout must be a number"),
        ("timeout = 0", "greater than 0"),
        ("user = 3", "user must be a string"),
        ("apps = 3", "must be a table"),
    ],
)
def test_wrong_types_point_at_key_line(tmp_path, line_text, word):
    base = "" if line_text.startswith("base_url") else 'base_url = "http://x/v1"\n'
    path = write(tmp_path, f"# top\n[workspaces.w]\n{base}{line_text}\n")
    err = load_error(path)
    assert word in err.message
    assert err.line == (3 if not base else 4)
    assert str(err).startswith(f"{path}:{err.line}: ")


def test_api_key_wrong_type_never_echoes_value(tmp_path):
    err = load_error(write(tmp_path, MINIMAL.replace(f'"{KEY}"', "123456789")))
    assert err.line == 5
    assert "123456789" not in str(err)
    assert "api_key must be a string" in err.message


def test_default_workspace_must_exist(tmp_path):
    err = load_error(write(tmp_path, 'default_workspace = "locl"\n' + MINIMAL))
    assert err.line == 1
    assert "did you mean 'local'" in err.message


def test_no_workspaces(tmp_path):
    err = load_error(write(tmp_path, "[keymap]\n"))
    assert "no workspaces" in err.message


def test_keymap_values_must_be_strings(tmp_path):
    err = load_error(write(tmp_path, MINIMAL + '\n[keymap]\n"app.run" = 1\n'))
    assert err.line == 8
    assert "must be a string" in err.message


def test_dotted_and_inline_forms_are_located(tmp_path):
    text = '[workspaces.local]\nbase_url = "http://x/v1"\napps.bot = { api_key = "app-1", colour = "red" }\n'
    err = load_error(write(tmp_path, text))
    assert "colour" in err.message and err.line == 3
    text = '[workspaces]\nlocal.base_url = "http://x/v1"\nlocal.timeout = "x"\n'
    assert load_error(write(tmp_path, text, "b.toml")).line == 3
    # nested inline tables: the key is not found itself, so its nearest known parent's line is used
    text = '[workspaces.local]\nbase_url = "http://x/v1"\n\napps = { bot = { api_key = 1 } }\n'
    assert load_error(write(tmp_path, text, "c.toml")).line == 4


def test_multiline_string_does_not_confuse_locator(tmp_path):
    text = (
        "[workspaces.local]\n"
        'base_url = "http://x/v1"\n'
        '[workspaces.local.apps.bot]\napi_key_cmd = """\n[workspaces.local]\ntimeout = 1\n"""\n'
        "bogus = 1\n"
    )
    assert load_error(write(tmp_path, text)).line == 8


def test_not_utf8(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe[")
    assert "UTF-8" in load_error(path).message


# --- key resolution and secrecy -----------------------------------------------------------


def cmd_config(tmp_path: Path, code: str) -> Path:
    cmd = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    # json.dumps gives a valid TOML basic string for ASCII text
    text = (
        '[workspaces.local]\nbase_url = "http://x/v1"\n\n'
        f"[workspaces.local.apps.bot]\napi_key_cmd = {json.dumps(cmd)}\n"
    )
    return write(tmp_path, text)


def test_api_key_cmd_runs_once_and_caches(tmp_path):
    counter = tmp_path / "count"
    code = (
        f"import pathlib; p = pathlib.Path({str(counter)!r}); "
        f"p.write_text(p.read_text() + 'x' if p.exists() else 'x'); print('{KEY}')"
    )
    app = load_config(cmd_config(tmp_path, code), env={}).workspace().apps["bot"]
    assert not counter.exists()  # lazy: nothing ran at load time
    assert app.key().reveal() == KEY
    assert app.key().reveal() == KEY
    assert counter.read_text() == "x"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("import sys; print('app-' + 'k' * 20); sys.exit(3)", ["exit code 3"]),
        ("print('   ')", ["printed nothing"]),
    ],
)
def test_api_key_cmd_failures(tmp_path, code, words):
    path = cmd_config(tmp_path, code)
    app = load_config(path, env={}).workspace().apps["bot"]
    with pytest.raises(ConfigError) as info:
        app.key()
    err = info.value
    assert (err.path, err.line) == (str(path), 4)
    assert "api_key_cmd" in err.message and sys.executable in err.message
    for word in words:
        assert word in err.message
    assert "app-" + "k" * 20 not in str(err)


def test_api_key_cmd_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr("difytui.config_models.KEY_CMD_TIMEOUT", 0.5)
    app = load_config(cmd_config(tmp_path, "import time; time.sleep(5)"), env={}).workspace()
    with pytest.raises(ConfigError, match="timed out"):
        app.apps["bot"].key()


@pytest.mark.parametrize("env", [{}, {"DIFY_BOT": ""}, {"DIFY_BOT": "  "}])
def test_api_key_env_missing_or_empty(tmp_path, env):
    text = '[workspaces.w]\nbase_url = "http://x/v1"\n[workspaces.w.apps.bot]\napi_key_env = "DIFY_BOT"\n'
    path = write(tmp_path, text)
    app = load_config(path, env=env).workspace().apps["bot"]
    with pytest.raises(ConfigError) as info:
        app.key()
    assert (info.value.path, info.value.line) == (str(path), 3)
    assert "DIFY_BOT" in info.value.message


def test_api_key_env_reads_process_env_lazily(tmp_path, monkeypatch):
    text = '[workspaces.w]\nbase_url = "http://x/v1"\n[workspaces.w.apps.bot]\napi_key_env = "DIFY_BOT"\n'
    monkeypatch.delenv("DIFYTUI_CONFIG", raising=False)
    app = load_config(write(tmp_path, text)).workspace().apps["bot"]
    monkeypatch.setenv("DIFY_BOT", KEY)
    assert app.key().reveal() == KEY


def test_keys_never_shown(tmp_path):
    config = load_config(write(tmp_path, MINIMAL), env={})
    app = config.workspace().apps["bot"]
    app.key()  # resolved and cached
    for text in (repr(config), str(config), repr(app), str(app), f"{app}", repr(config.workspace())):
        assert KEY not in text
    assert app.key().reveal() == KEY


def test_from_key():
    entry = AppEntry.from_key("support", KEY)
    assert entry.key().reveal() == KEY
    assert KEY not in repr(entry)
    secret = Secret(KEY)
    assert AppEntry.from_key("s", secret).key() is secret
    with pytest.raises(ConfigError, match="empty"):
        AppEntry.from_key("s", "").key()


def test_account_workspace_needs_server_and_workspace_id_and_derives_its_base_url(tmp_path):
    path = write(
        tmp_path,
        '[workspaces.cloud]\nkind = "account"\nserver = "https://dify.example.com/"\nworkspace_id = "ws-1"\n',
    )
    ws = load_config(path).workspace("cloud")
    assert ws.kind == "account" and ws.apps == {}
    assert ws.base_url == "https://dify.example.com/openapi/v1" and ws.workspace_id == "ws-1"
    path = write(tmp_path, '[workspaces.cloud]\nkind = "account"\nworkspace_id = "ws-1"\n')
    with pytest.raises(ConfigError, match="has no server") as caught:
        load_config(path)
    assert caught.value.line == 1


def test_imported_app_bookkeeping_keys_are_allowed(tmp_path):
    path = write(
        tmp_path,
        '[workspaces.w]\nbase_url = "http://x/v1"\nconsole_url = "http://x"\nworkspace_id = "t1"\n'
        '[workspaces.w.apps.bot]\napi_key = "app-1"\napp_uuid = "u-1"\nname = "Bot"\ndeleted = true\n',
    )
    ws = load_config(path).workspace("w")
    bot = ws.apps["bot"]
    assert (bot.app_uuid, bot.name, bot.deleted) == ("u-1", "Bot", True)
    assert ws.console_url == "http://x" and ws.workspace_id == "t1"
    path = write(tmp_path, '[workspaces.w]\nbase_url = "http://x/v1"\nkind = "other"\n')
    with pytest.raises(ConfigError, match="kind must be one of") as caught:
        load_config(path)
    assert caught.value.line == 3


@pytest.mark.parametrize("bad", ["app-abc\nzz", "app-abc def", "app-abcé"])
def test_a_key_that_cannot_go_into_a_header_is_refused_without_showing_it(bad):
    with pytest.raises(ConfigError, match="not usable") as caught:
        AppEntry.from_key("s", bad).key()
    assert "abc" not in str(caught.value) and "position" in str(caught.value)


def test_api_key_cmd_takes_the_first_line_like_pass(tmp_path):
    cmd = f"{sys.executable} -c \"print('app-firstline'); print('login: me')\""
    assert AppEntry(id="s", api_key_cmd=cmd).key().reveal() == "app-firstline"


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_timeout_must_be_finite(tmp_path, value):
    path = write(tmp_path, f'[workspaces.w]\nbase_url = "http://x/v1"\ntimeout = {value}\n')
    with pytest.raises(ConfigError, match="finite") as caught:
        load_config(path)
    assert caught.value.line == 3
