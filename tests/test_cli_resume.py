"""``difytui invoke`` on a run that pauses on a Human Input form, and ``difytui resume`` (issue 12)."""

from __future__ import annotations

import json

import pytest

from difytui.cli import main
from difytui.cli_resume import EXIT_PAUSED

APPS = ("hi-wf", "hi-wf-two", "hi-chat", "support-bot")


def run(capsys, *argv: str) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    if "--blocking" in argv:  # one indented JSON result
        return code, [json.loads(out)], err
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


@pytest.fixture
def config(tmp_path, sim):
    path = tmp_path / "config.toml"
    apps = "\n".join(f'[workspaces.test.apps.{a}]\napi_key = "{sim.api_keys[a]}"\n' for a in APPS)
    path.write_text(f'[workspaces.test]\nbase_url = "{sim.base_url}"\nuser = "cli"\n\n{apps}')
    return str(path)


def pause(capsys, config: str, app: str = "hi-wf", *extra: str) -> tuple[str, str]:
    args = ["-i", "city=Berlin", "-q", "need approval"] if app == "hi-chat" else ["-i", "topic=Q3 budget"]
    code, events, err = run(capsys, "--config", config, "invoke", app, *args, *extra)
    assert code == EXIT_PAUSED == 3, err
    run_id = (events[-1].get("workflow_run_id")) if events else ""
    return run_id, err


def test_invoke_prints_the_events_then_the_form_and_exits_3(capsys, config):
    code, events, err = run(capsys, "--config", config, "invoke", "hi-wf", "-i", "topic=Q3 budget")
    assert code == 3
    assert [e["event"] for e in events][-2:] == ["human_input_required", "workflow_paused"]
    token = events[-1]["data"]["reasons"][0]["form_token"]
    run_id = events[-1]["workflow_run_id"]
    assert "paused on a Human Input form: Review" in err
    assert "  | Please review **Q3 budget**." in err and "{{#$output.note#}}" in err
    assert "input choice: select one of: a, b" in err and "actions: approve (Approve), reject (Reject)" in err
    assert f"form token: {token}" in err
    assert f"difytui resume hi-wf {run_id} --action approve" in err
    code, listed, _ = run(capsys, "--config", config, "resume", "--list")
    assert code == 0 and [(f["app_id"], f["workflow_run_id"], f["form_token"]) for f in listed] == [
        ("hi-wf", run_id, token)
    ]


def test_resume_with_an_action_and_inputs_streams_the_rest(capsys, config):
    run_id, _ = pause(capsys, config)
    argv = [
        "--config",
        config,
        "resume",
        "hi-wf",
        run_id,
        "--action",
        "reject",
        "-i",
        "note=no",
        "-i",
        "choice=b",
    ]
    code, events, err = run(capsys, *argv)
    assert code == 0, err
    names = [e["event"] for e in events]
    assert names[:3] == ["workflow_started", "node_started", "human_input_form_filled"]
    assert events[0]["data"]["reason"] == "resumption"  # the replay was not printed again
    assert names[-1] == "workflow_finished"
    assert events[-1]["data"]["outputs"] | {"topic": None} == {
        "topic": None,
        "note": "no",
        "choice": "b",
        "ref": "Q3 budget",  # the form's default, resolved by Dify
        "action": "reject",
        "action_title": "Reject",
    }
    code, listed, err = run(capsys, "--config", config, "resume", "--list")
    assert listed == [] and "no pending forms" in err
    code, _, err = run(capsys, *argv)
    assert code == 1 and "no pending form" in err


def test_resume_refusals(capsys, config):
    run_id, _ = pause(capsys, config)
    base = ["--config", config, "resume", "hi-wf", run_id]
    code, _, err = run(capsys, *base, "--action", "maybe")
    assert code == 2 and "the form's actions are approve, reject" in err
    code, _, err = run(capsys, *base, "--action", "approve", "-i", "colour=red")
    assert code == 2 and "the form's fields are note, choice, ref" in err
    code, _, err = run(capsys, *base, "--action", "approve", "-i", "choice=c")
    assert code == 2 and "Invalid value for select input 'choice': c" in err
    code, _, err = run(capsys, *base, "--action", "approve", "-i", "choice=a")
    assert code == 0, err


def test_a_chatflow_resumes_to_the_whole_answer(capsys, config):
    run_id, _ = pause(capsys, config, "hi-chat", "--blocking")
    argv = ["--config", config, "resume", "hi-chat", run_id, "--action", "approve", "-i", "choice=a"]
    code, events, err = run(capsys, *argv)
    assert code == 0, err
    assert "only part of the answer" in err  # Dify 1.14.2 dropped the text after the pause
    answer = events[-1]["data"]["outputs"]["answer"]
    assert answer.endswith("after-resume: city=Berlin note=looks good choice=a ref=Berlin action=approve")

    run_id, _ = pause(capsys, config, "hi-chat")
    code = main(
        ["--config", config, "resume", "hi-chat", run_id, "--text", "--action", "approve", "-i", "choice=b"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == (
        "pre-pause: need approval @ Berlin. after-resume: city=Berlin note=looks good choice=b ref=Berlin "
        "action=approve"
    )


def test_two_forms_in_a_row_pause_again(capsys, config):
    run_id, _ = pause(capsys, config, "hi-wf-two")
    argv = ["--config", config, "resume", "hi-wf-two", run_id]
    code, events, err = run(capsys, *argv, "--action", "approve", "-i", "choice=a")
    assert code == 3 and "paused on a Human Input form: Second review" in err
    assert [e["event"] for e in events][-1] == "workflow_paused"
    code, _, err = run(capsys, *argv)  # no action: only re-attach (the run so far, still paused)
    assert code == 3
    code, events, err = run(capsys, *argv, "--action", "ok")
    assert code == 0, err
    assert events[-1]["data"]["outputs"] == {"note": "looks good", "comment": "looks good", "action": "ok"}
