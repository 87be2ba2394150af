"""``difytui invoke`` follow-ups and the smaller CLI defects a real Dify showed: a follow-up reuses its
conversation's recorded inputs, apps go by a unique name too, and inputs or files Dify would drop
are warned about before the run."""

from __future__ import annotations

import json

import pytest
from helpers import account_config as account_config_file

from difytui.cli import main
from difytui.config import load_config
from difytui.store import Store, workspace_key

UNKNOWN = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.fixture
def config(tmp_path, sim):
    path = tmp_path / "config.toml"
    path.write_text(sim.config_toml("test"))
    return str(path)


def sent(sim, path: str) -> list[dict]:
    """The JSON bodies of the runs the simulator received on ``path``, in order."""
    return [r.json for r in sim.requests if r.path == path and r.method == "POST"]


def conversation_of(out: list[str]) -> str:
    return json.loads(out[-1])["conversation_id"]


# -- follow-ups reuse the conversation's inputs ----------------------------------------------------


def test_a_follow_up_of_a_cli_conversation_reuses_its_inputs(capsys, config, sim):
    code, out, err = run(capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon")
    assert code == 0, err
    conversation = conversation_of(out)

    code, out, err = run(
        capsys, "--config", config, "invoke", "trip-planner", "-q", "more", "-c", conversation
    )
    assert code == 0, err
    assert f"using the inputs recorded for conversation {conversation}: city" in err
    turns = sent(sim, "/v1/chat-messages")
    assert turns[-1]["inputs"]["city"] == "Lyon" and turns[-1]["conversation_id"] == conversation
    assert {json.loads(line)["conversation_id"] for line in out} == {conversation}


def test_a_blocking_turn_is_recorded_too_and_given_inputs_win(capsys, config, sim):
    code, out, err = run(
        capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon", "--blocking"
    )
    assert code == 0, err
    conversation = json.loads("\n".join(out))["conversation_id"]

    args = ("--config", config, "invoke", "trip-planner", "-q", "more", "-c", conversation)
    code, _out, err = run(capsys, *args, "-i", "city=Paris", "-i", "season=winter")
    assert code == 0, err
    assert "using the inputs recorded" not in err  # nothing of the record was needed
    assert sent(sim, "/v1/chat-messages")[-1]["inputs"]["city"] == "Paris"
    # The record follows the latest turn.
    code, _out, err = run(capsys, *args)
    assert code == 0, err
    assert sent(sim, "/v1/chat-messages")[-1]["inputs"] == {"city": "Paris", "season": "winter"}


def test_a_follow_up_of_the_consoles_conversation_reuses_the_consoles_inputs(capsys, config, sim):
    console_key = workspace_key  # the console keys its rows with it too (DifyConsole.ws_key)
    workspace = load_config(config).workspace()
    from difytui.client import Dify

    with Dify(workspace=workspace) as dify:
        first = dify.app.chat.invoke("trip-planner", "hi", {"city": "Oslo"}, "blocking")
    with Store() as store:  # what the console records for its current conversation
        store.set_inputs(console_key(workspace), "trip-planner", {"city": "Oslo", "season": "summer"})
        store.set_conversation(console_key(workspace), "trip-planner", first["conversation_id"])

    args = ("--config", config, "invoke", "trip-planner", "-q", "more", "-c", first["conversation_id"])
    code, _out, err = run(capsys, *args)
    assert code == 0, err
    assert "city, season" in err
    assert sent(sim, "/v1/chat-messages")[-1]["inputs"] == {"city": "Oslo", "season": "summer"}


def test_without_recorded_inputs_the_error_says_follow_ups_need_them_again(capsys, config, sim):
    code, _out, err = run(capsys, "--config", config, "invoke", "trip-planner", "-q", "more", "-c", UNKNOWN)
    assert code == 2
    assert "input error: city is required" in err
    assert "follow-ups need the inputs again" in err and UNKNOWN in err and "-i KEY=VALUE" in err
    assert not sent(sim, "/v1/chat-messages")
    # A first turn without its inputs gets the plain error, not the follow-up advice.
    code, _out, err = run(capsys, "--config", config, "invoke", "trip-planner", "-q", "hi")
    assert code == 2 and "follow-ups" not in err


# -- apps by name ----------------------------------------------------------------------------------


@pytest.fixture
def account_config(tmp_path, sim):
    """A config whose default workspace is the simulator's account workspace, logged in."""
    return account_config_file(tmp_path, sim)


def test_an_account_workspace_app_runs_by_its_name(capsys, account_config, sim):
    code, out, err = run(
        capsys, "--config", account_config, "invoke", "Trip Planner", "-q", "hi", "-i", "city=Lyon"
    )
    assert code == 0, err
    uuid = sim.directory.by_slug("trip-planner").uuid
    assert sent(sim, f"/openapi/v1/apps/{uuid}/run")[-1]["inputs"]["city"] == "Lyon"
    conversation = conversation_of(out)
    # Names ignore case when no exact match exists; the follow-up by name reuses the inputs.
    code, _out, err = run(
        capsys, "--config", account_config, "invoke", "trip planner", "-q", "more", "-c", conversation
    )
    assert code == 0, err
    assert sent(sim, f"/openapi/v1/apps/{uuid}/run")[-1]["inputs"]["city"] == "Lyon"


def test_an_ambiguous_name_names_every_candidate_with_its_id(capsys, account_config, sim, monkeypatch):
    twin = sim.directory.by_slug("faq-bot")
    monkeypatch.setitem(twin.definition, "name", "Support Bot")  # two apps of that name now
    code, out, err = run(capsys, "--config", account_config, "invoke", "Support Bot", "-q", "hi")
    assert code == 2 and out == []
    original = sim.directory.by_slug("support-bot").uuid
    assert "2 apps" in err and "'Support Bot'" in err
    assert f"{original} (Support Bot)" in err and f"{twin.uuid} (Support Bot)" in err
    assert "Traceback" not in err
    assert not [r for r in sim.requests if r.path.endswith("/run")]


def test_an_unknown_name_lists_the_workspaces_apps(capsys, account_config):
    code, _out, err = run(capsys, "--config", account_config, "invoke", "No Such App", "-q", "hi")
    assert code == 2
    assert "'No Such App'" in err and "Trip Planner" in err


def test_a_keys_workspace_app_runs_by_its_name_too_and_an_id_costs_no_lookup(capsys, config, sim):
    args = ("-i", "product_name=x", "-i", "brief=y")
    code, _out, err = run(capsys, "--config", config, "invoke", "copywriter", *args)
    assert code == 0, err
    assert [r.path for r in sim.requests] == ["/v1/info", "/v1/parameters", "/v1/completion-messages"]
    code, _out, err = run(capsys, "--config", config, "invoke", "Copywriter", *args)
    assert code == 0, err
    assert len(sent(sim, "/v1/completion-messages")) == 2


# -- warnings before the run -----------------------------------------------------------------------


def test_an_input_not_on_the_form_is_warned_about_naming_the_forms_inputs(capsys, config, sim):
    code, _out, err = run(
        capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon", "-i", "bogus=1"
    )
    assert code == 0, err
    assert "warning: trip-planner has no input 'bogus'" in err
    assert "its inputs are city, season, photo" in err
    # Sent anyway: Dify ignores it, and a control this version cannot parse keeps its variable.
    assert sent(sim, "/v1/chat-messages")[-1]["inputs"]["bogus"] == "1"
    code, _out, err = run(
        capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "--inputs-json", '{"cty": "Lyon"}'
    )
    assert "no input 'cty' (did you mean 'city'?)" in err


def test_form_inputs_are_not_warned_about(capsys, config):
    code, _out, err = run(capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon")
    assert code == 0 and "warning" not in err


def test_a_file_for_an_app_with_upload_off_is_warned_about_and_not_uploaded(capsys, config, sim, tmp_path):
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3")
    code, _out, err = run(
        capsys, "--config", config, "invoke", "support-bot", "-q", "hi", "--file", str(song)
    )
    assert code == 0, err
    assert "support-bot has file upload switched off" in err and "song.mp3" in err
    assert not [r for r in sim.requests if r.path == "/v1/files/upload"]
    assert not sent(sim, "/v1/chat-messages")[-1].get("files")


def test_a_file_for_an_app_with_upload_on_is_sent_without_a_warning(capsys, config, sim, tmp_path):
    picture = tmp_path / "map.png"
    picture.write_bytes(b"\x89PNG")
    code, _out, err = run(
        capsys,
        "--config",
        config,
        "invoke",
        "trip-planner",
        "-q",
        "hi",
        "-i",
        "city=Lyon",
        "--file",
        str(picture),
    )
    assert code == 0, err
    assert "warning" not in err
    assert [r for r in sim.requests if r.path == "/v1/files/upload"]
    assert sent(sim, "/v1/chat-messages")[-1]["files"][0]["transfer_method"] == "local_file"


def test_a_wrong_file_type_reads_an_audio_file(capsys, config, sim, tmp_path):
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3")
    code, _out, err = run(
        capsys,
        "--config",
        config,
        "invoke",
        "trip-planner",
        "-q",
        "hi",
        "-i",
        "city=Lyon",
        "-i",
        f"photo={song}",
    )
    assert code == 2
    assert "song.mp3 is an audio file" in err


def test_a_demo_conversation_continues_in_a_later_process(capsys):
    # Each --demo run starts the simulator on a new port; its conversations and their inputs persist.
    code, out, err = run(capsys, "--demo", "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon")
    assert code == 0, err
    conversation = conversation_of(out)
    code, out, err = run(capsys, "--demo", "invoke", "trip-planner", "-q", "more", "-c", conversation)
    assert code == 0, err
    assert "using the inputs recorded" in err
    assert {json.loads(line)["conversation_id"] for line in out} == {conversation}


def test_the_wrong_interface_reads_an_agent_app(sim):
    from difytui import Dify, DifyError

    with Dify(base_url=sim.base_url, apps=sim.apps_config()) as dify, pytest.raises(DifyError) as caught:
        dify.app.workflow.invoke("travel-agent", {})
    assert "is an agent app" in str(caught.value)


# -- the store's inputs per conversation ------------------------------------------------------------


def test_a_version_1_state_database_gains_inputs_per_conversation(tmp_path):
    import sqlite3

    from difytui import store as store_module

    path = tmp_path / "state.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"BEGIN; {store_module._MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    conn.execute("INSERT INTO inputs VALUES ('ws', 'app', '{\"city\": \"Oslo\"}', 0)")
    conn.execute("INSERT INTO conversations VALUES ('ws', 'app', 'c-1', 0)")
    conn.close()
    with Store(path) as store:
        assert store.persistent
        # The console's record: its current conversation's inputs are the app's last inputs.
        assert store.conversation_inputs("ws", "app", "c-1") == {"city": "Oslo"}
        assert store.conversation_inputs("ws", "app", "c-2") is None
        store.set_conversation_inputs("ws", "app", "c-2", {"city": "Lyon", "photo": tmp_path / "a.png"})
        assert store.conversation_inputs("ws", "app", "c-2") == {
            "city": "Lyon",
            "photo": str(tmp_path / "a.png"),
        }
        # The newer of the two records of the console's conversation wins.
        store.set_conversation_inputs("ws", "app", "c-1", {"city": "Bergen"})
        assert store.conversation_inputs("ws", "app", "c-1") == {"city": "Bergen"}
        store.set_inputs("ws", "app", {"city": "Tromsø"})  # the console sent another turn
        assert store.conversation_inputs("ws", "app", "c-1") == {"city": "Tromsø"}


def test_the_library_resolves_names_in_both_clients(make_api, sim, monkeypatch):
    from difytui import AmbiguousAppError, AppNotFoundError

    api = make_api()
    assert api("app.resolve", "trip-planner") == "trip-planner"
    assert api("app.resolve", "Trip Planner") == "trip-planner"
    assert api("app.resolve", "TRIP PLANNER") == "trip-planner"
    with pytest.raises(AppNotFoundError):
        api("app.resolve", "Trip")
    monkeypatch.setitem(sim._api.apps["copywriter"], "name", "Trip Planner")
    fresh = make_api()
    with pytest.raises(AmbiguousAppError) as caught:
        fresh("app.resolve", "Trip Planner")
    assert {app_id for app_id, _name in caught.value.candidates} == {"trip-planner", "copywriter"}


def test_a_stream_closed_after_its_first_event_still_records_the_inputs(sim):
    # What Ctrl+C or a closed pipe does to `invoke`: the stream is closed mid-run.
    from difytui.cli_inputs import ConversationInputs, Recording
    from difytui.client import Dify

    sim.token_delay = 0.05  # still running when closed
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="cli") as dify:
        memory = ConversationInputs(dify.workspace, "trip-planner")
        inputs = {"city": "Lyon"}
        events = Recording(memory, inputs).watch(dify.app.chat.invoke("trip-planner", "hi", inputs))
        first = next(events)
        assert memory.recorded(first["conversation_id"]) is None  # looked at after it was printed
        events.close()
    assert memory.recorded(first["conversation_id"]) == {"city": "Lyon"}
