"""The headless CLI, run in-process: what scripts and CI see on stdout, stderr and in the exit code."""

from __future__ import annotations

import json
import textwrap

import pytest

from difytui.cli import main
from difytui.sim import Simulator


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_demo_apps_lists_five_apps_grouped_by_interface(capsys):
    code, out, _err = run(capsys, "--demo", "apps")
    assert code == 0
    text = "\n".join(out)
    for heading in ("Chat", "Workflow", "Completion"):
        assert heading in out
    chat = out.index("Chat")
    workflow = out.index("Workflow")
    assert all(
        app in "\n".join(out[chat:workflow]) for app in ("support-bot", "travel-agent", "trip-planner")
    )
    assert "[chatflow]" in text and "[agent]" in text and "report-builder" in text and "copywriter" in text


def test_apps_json_prints_each_apps_fields(capsys, config):
    code, out, _err = run(capsys, "--config", config, "apps", "--json")
    assert code == 0
    apps = {app["id"]: app for app in json.loads("\n".join(out))}
    assert len(apps) == 7
    assert set(apps["trip-planner"]) >= {"id", "name", "mode", "interface", "description"}
    assert apps["trip-planner"]["interface"] == "chat"


def test_demo_invoke_streams_ndjson_and_a_follow_up_continues_the_conversation(capsys):
    code, out, err = run(capsys, "--demo", "invoke", "support-bot", "--query", "hi")
    assert code == 0
    events = [json.loads(line) for line in out]
    assert events[-1]["event"] == "message_end"
    conversation = events[0]["conversation_id"]
    assert f"--conversation {conversation}" in err

    # A new process (a new simulator) still knows the conversation: the demo keeps its state.
    code, out, err = run(
        capsys, "--demo", "invoke", "support-bot", "--query", "more", "--conversation", conversation
    )
    assert code == 0 and "warning" not in err
    assert {json.loads(line)["conversation_id"] for line in out} == {conversation}


def test_unknown_conversation_on_a_chatflow_is_reported_on_stderr(capsys, config):
    unknown = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    code, out, err = run(
        capsys, "--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Lyon", "-c", unknown
    )
    assert code == 0
    assert f"conversation {unknown} was not found" in err and "new conversation" in err
    assert json.loads(out[-1])["event"] == "workflow_finished"


def test_inputs_are_typed_by_the_apps_form(capsys, config, sim):
    code, _out, _err = run(
        capsys,
        "--config",
        config,
        "invoke",
        "report-builder",
        "-i",
        "topic=Tests",
        "-i",
        "sections=2",
        "-i",
        "include_code=no",
        "--inputs-json",
        '{"metadata": {"k": 1}}',
        "--blocking",
    )
    assert code == 0
    sent = [r for r in sim.requests if r.path == "/v1/workflows/run"][-1].json["inputs"]
    assert sent["sections"] == 2 and sent["include_code"] is False and sent["metadata"] == {"k": 1}
    assert sent["audience"] == "everyone"  # the form's default, as Dify's web form pre-fills it


def test_blocking_prints_the_result(capsys, config):
    code, out, _err = run(
        capsys,
        "--config",
        config,
        "invoke",
        "copywriter",
        "-i",
        "product_name=x",
        "-i",
        "brief=y",
        "--blocking",
    )
    assert code == 0
    assert json.loads("\n".join(out))["mode"] == "completion"


def test_local_input_errors_exit_2_before_any_run(capsys, config, sim):
    code, _out, err = run(capsys, "--config", config, "invoke", "trip-planner", "-q", "hi")
    assert code == 2
    assert "input error: city is required" in err
    assert not [r for r in sim.requests if r.path == "/v1/chat-messages"]


def test_stream_ending_in_an_error_event_exits_1(capsys, config, sim):
    sim.add_fault("/v1/chat-messages", "error", after=2, message="Rate limit")
    code, out, err = run(capsys, "--config", config, "invoke", "support-bot", "-q", "hi")
    assert code == 1
    assert json.loads(out[-1])["event"] == "error"
    assert "Rate limit" in err


def test_api_error_exits_1_with_difys_message(capsys, tmp_path, sim):
    path = tmp_path / "bad-key.toml"
    path.write_text(
        f'[workspaces.w]\nbase_url = "{sim.base_url}"\n[workspaces.w.apps.support-bot]\n'
        'api_key = "app-wrongwrongwrongwrong1234"\n'
    )
    code, out, err = run(capsys, "--config", str(path), "invoke", "support-bot", "-q", "hi")
    assert code == 1 and out == []
    assert "401" in err and "Access token is invalid" in err and "check the app's API key" in err
    assert "wrongwrongwrong" not in err and "Traceback" not in err


def test_dead_server_exits_1_naming_the_url(capsys, tmp_path):
    with Simulator() as gone:
        url = gone.base_url
    path = tmp_path / "dead.toml"
    path.write_text(f'[workspaces.w]\nbase_url = "{url}"\n[workspaces.w.apps.a]\napi_key = "app-x"\n')
    code, _out, err = run(capsys, "--config", str(path), "apps")
    assert code == 1
    assert "cannot connect" in err and url in err


def test_bad_config_line_exits_2_with_file_and_line(capsys, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(
            """\
            [workspaces.w]
            base_url = "http://localhost/v1"
            colour = "blue"
            """
        )
    )
    code, out, err = run(capsys, "--config", str(path), "apps")
    assert code == 2 and out == []
    assert f"{path}:3:" in err and "colour" in err and "Traceback" not in err


def test_unknown_app_exits_2_listing_the_workspaces_apps(capsys, config):
    code, _out, err = run(capsys, "--config", config, "invoke", "nope", "-q", "hi")
    assert code == 2
    assert "'nope'" in err and "support-bot" in err


def test_query_on_a_workflow_is_a_usage_error(capsys, config):
    code, _out, err = run(capsys, "--config", config, "invoke", "report-builder", "-q", "hi")
    assert code == 2 and "takes inputs" in err


def test_server_text_cannot_drive_the_terminal(capsys, config, sim):
    sim.add_fault(
        "/v1/parameters",
        "status",
        status=400,
        body='{"code":"x","message":"\\u001b[31mred\\u001b]0;title\\u0007","status":400}',
    )
    code, _out, err = run(capsys, "--config", config, "invoke", "support-bot", "-q", "hi")
    assert code == 1
    assert "\x1b" not in err and "\x07" not in err and "␛[31mred" in err


def test_ctrl_c_stops_the_run_on_the_server_and_exits_130(config, sim):
    import signal
    import subprocess
    import sys

    # The run stalls after its first events until a stop reaches it: it cannot end on its own
    # before the signal lands, however slow this machine is.
    sim.token_delay = 3600
    proc = subprocess.Popen(
        [sys.executable, "-m", "difytui", "--config", config, "invoke", "report-builder", "-i", "topic=x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()  # the run has started: a task id exists
    assert json.loads(first)["event"] == "workflow_started"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    task_id = json.loads(first)["task_id"]
    # The CLI waits for the stop call's answer before it exits: it is on record by now.
    assert [r for r in sim.requests if r.path == f"/v1/workflows/tasks/{task_id}/stop"]
    assert sim.stopped_tasks == [task_id]
    assert "Traceback" not in err and f"stopping task {task_id}" in err


def test_a_closed_pipe_ends_quietly_and_stops_the_run(config, sim):
    import subprocess
    import sys
    import time

    sim.token_delay = 0.02
    proc = subprocess.Popen(
        [sys.executable, "-m", "difytui", "--config", config, "invoke", "support-bot", "-q", "hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()  # like `| head -1`
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and b"Traceback" not in err, err
    deadline = time.monotonic() + 5
    while not [r for r in sim.requests if r.path == f"/v1/chat-messages/{first['task_id']}/stop"]:
        assert time.monotonic() < deadline, "the run was not stopped"
        time.sleep(0.05)


def test_c1_controls_and_del_in_events_are_escaped(capsys):
    from difytui.cli_output import emit as _emit

    _emit({"answer": "a\x9b31mb\x7fc\x1b"})
    out = capsys.readouterr().out
    assert "\x9b" not in out and "\x7f" not in out and "\x1b" not in out
    assert json.loads(out) == {"answer": "a\x9b31mb\x7fc\x1b"}


def test_a_missing_file_is_a_usage_error_before_any_run(capsys, config, sim):
    code, _out, err = run(
        capsys, "--config", config, "invoke", "support-bot", "-q", "hi", "--file", "/no/x.png"
    )
    assert code == 2 and "/no/x.png: no such file" in err
    assert not [r for r in sim.requests if r.path == "/v1/chat-messages"]


def test_ctrl_c_during_a_blocking_run_stops_it_on_the_server_and_exits_130(capsys, config, sim, monkeypatch):
    import signal

    from difytui import fold

    sim.token_delay = 0.05
    real_add = fold.Folder.add

    def add_then_interrupt(self, event):
        real_add(self, event)
        if self.task_id:  # Ctrl+C once Dify has named the task
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(fold.Folder, "add", add_then_interrupt)
    argv = ("--config", config, "invoke", "report-builder", "-i", "topic=x", "--blocking")
    code, out, err = run(capsys, *argv)
    assert code == 130 and out == [], err
    assert len(sim.stopped_tasks) == 1 and f"interrupted; stopped task {sim.stopped_tasks[0]}" in err


def test_a_read_timeout_mid_stream_stops_the_run_before_exiting_1(capsys, config, sim):
    # The run is held after its first event until it is stopped: only that read can time out. The
    # short timeout is the run's alone (--timeout), so the app's /info and /parameters have the
    # workspace's ordinary one, however slow the machine.
    sim.add_fault("/v1/chat-messages", "hold", after=1)
    argv = ["--config", config, "invoke", "support-bot", "-q", "hi", "--timeout", "0.5"]
    code, out, err = run(capsys, *argv)
    assert code == 1 and "timed out" in err and "Traceback" not in err
    task_id = json.loads(out[0])["task_id"]
    assert sim.stopped_tasks == [task_id] and f"stopping task {task_id}" in err


def test_a_run_stopped_early_elsewhere_reads_as_stopped_not_failed(capsys, config, sim):
    # Stopped (as from Dify's web app) while held before any node ran: Dify 1.14.2 then ends the
    # stream `failed` / "Aborted: User requested stop", though the run was stopped, not broken.
    import threading

    import httpx

    sim.add_fault("/v1/workflows/run", "hold", after=2)

    import time

    problems: list[str] = []

    def stop_once_running() -> None:
        # A bound, so a run that never starts fails the test instead of hanging it (the held run
        # goes on after its 30 s hold, so the CLI returns too).
        give_up = time.monotonic() + 60.0
        while not sim.running_tasks:  # recorded state: the run is in flight
            if time.monotonic() > give_up:
                problems.append("the run never showed in the simulator's running tasks")
                return
            threading.Event().wait(0.01)
        task_id = next(iter(sim.running_tasks))
        headers = {"Authorization": f"Bearer {sim.api_keys['report-builder']}"}
        httpx.post(f"{sim.base_url}/workflows/tasks/{task_id}/stop", json={"user": "cli"}, headers=headers)

    stopper = threading.Thread(target=stop_once_running, daemon=True)
    stopper.start()
    code, out, err = run(capsys, "--config", config, "invoke", "report-builder", "-i", "topic=x")
    stopper.join(timeout=90.0)
    assert not stopper.is_alive() and not problems, problems or "the stopper thread never finished"
    finished = json.loads(out[-1])
    assert finished["data"]["status"] == "failed"  # printed exactly as Dify sent it
    assert code == 1
    assert "the run stopped: Aborted: User requested stop" in err
    assert "failed" not in err


@pytest.mark.parametrize("as_json", [False, True])
def test_an_app_name_with_a_lone_surrogate_is_listed_escaped(capfd, config, sim, as_json):
    # "\ud800" is legal JSON but no encoding can write it: print() used to raise mid-listing.
    body = '{"mode":"workflow","name":"bad \\ud800 name","description":"d"}'
    sim.add_fault("/v1/info", "status", status=200, body=body)
    code = main(["--config", config, "apps", *(["--json"] if as_json else [])])
    out, err = capfd.readouterr()
    assert code == 0 and "Traceback" not in err
    if as_json:
        assert "bad \ud800 name" in {app["name"] for app in json.loads(out)}
    else:
        assert "bad \\ud800 name" in out


@pytest.mark.parametrize("blocking", [False, True], ids=["streaming", "blocking"])
@pytest.mark.parametrize("data", ["null", '{"id":"r-1","outputs":{}}'], ids=["data-null", "no-status"])
def test_a_workflow_finished_without_a_status_is_not_a_success(capsys, config, sim, blocking, data):
    # A proxy or a broken plugin's stream: the run's end arrived but says nothing about how it went.
    started = '{"event":"workflow_started","task_id":"t-1","workflow_run_id":"r-1","data":{"id":"r-1"}}'
    finished = '{"event":"workflow_finished","task_id":"t-1","workflow_run_id":"r-1","data":' + data + "}"
    body = f"data: {started}\n\ndata: {finished}\n\n"
    sim.add_fault("/v1/workflows/run", "status", status=200, body=body, content_type="text/event-stream")
    argv = ["--config", config, "invoke", "report-builder", "-i", "topic=x"]
    code, out, err = run(capsys, *argv, *(["--blocking"] if blocking else []))
    assert code == 1 and "Traceback" not in err
    assert "the run's end could not be read" in err
    if not blocking:
        assert [json.loads(line)["event"] for line in out] == ["workflow_started", "workflow_finished"]
