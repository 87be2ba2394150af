"""Save as test case (library side): a new [[case]] appended to cases_dir/<app>.toml, loadable by the
bench's loader, with the user's file kept as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from difytui.bench.case_files import check_target, load_cases
from difytui.bench.case_writer import append_case, case_file
from difytui.bench.model import Target
from difytui.errors import ConfigError

ANSWER = '## Re: hi\n\nHi Ana! Press `Ctrl+P`.\n\n> "quoted" \\ backslash \'single\' """triple"""\n'

USER_FILE = """\
# My support bot cases — keep this comment!
[defaults]
app = "support-bot"   # the bot under test
inputs = { product = "difytui" }

[[case]]
name = "greets"
query = "hi"

  [[case.assert]]      # indented on purpose
  type = "icontains"
  value = "hi"

# a trailing note"""


def _chat(path: Path, name: str = "saved", **overrides):
    kwargs = {
        "app": "support-bot",
        "name": name,
        "inputs": {"product": "difytui", "customer_name": "Ana"},
        "turns": ["hi"],
        "answer_or_outputs": ANSWER,
    }
    return append_case(path, **{**kwargs, **overrides})


def test_a_new_file_gets_a_header_defaults_and_a_case_that_loads(tmp_path):
    path = case_file(tmp_path / "cases", "support-bot")
    saved = _chat(path)
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "cases" / "support-bot.toml"
    assert text.startswith("# Test cases for the app 'support-bot'")
    assert text.splitlines()[saved.line - 1] == "[[case]]" and saved.name == "saved"
    [case] = load_cases([path])
    assert (case.name, case.app, case.turns) == ("saved", "support-bot", ("hi",))
    assert case.inputs == {"product": "difytui", "customer_name": "Ana"}
    status, similar = case.assertions
    assert (status.type, status.value) == ("status", "succeeded")
    assert (similar.type, similar.value, similar.threshold) == ("similar", ANSWER, None)
    check_target(case, Target("support-bot"), "chat")


def test_the_users_file_is_kept_byte_for_byte_and_the_case_appended(tmp_path):
    path = tmp_path / "support-bot.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    os.chmod(path, 0o640)
    saved = _chat(path, inputs={"product": "Dify Cloud"}, threshold=0.6)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(USER_FILE)
    assert "app =" not in text[len(USER_FILE) :]  # [defaults] names the app already
    assert (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["support-bot.toml"]  # no temporary file left
    greets, new = load_cases([path])
    assert greets.name == "greets" and new.name == saved.name == "saved"
    assert new.inputs == {"product": "Dify Cloud"} and new.assertions[1].threshold == 0.6


def test_a_taken_name_gets_a_number(tmp_path):
    path = tmp_path / "support-bot.toml"
    names = [_chat(path, "greets").name for _ in range(3)]
    assert names == ["greets", "greets (2)", "greets (3)"]
    assert [case.name for case in load_cases([path])] == names


def test_turns_query_workflow_outputs_and_completion_inputs(tmp_path):
    chat = tmp_path / "support-bot.toml"
    _chat(chat, turns=["hi", "and then?"], workspace="staging")
    [case] = load_cases([chat])
    assert case.turns == ("hi", "and then?") and case.workspace == "staging"

    flow = case_file(tmp_path, "report-builder")
    outputs = {"report": "# Report\n\nrésumé", "summary": {"sections": 2, "ok": True}}
    _chat(
        flow,
        app="report-builder",
        turns=None,
        inputs={"topic": "SSE", "sections": 2},
        answer_or_outputs=outputs,
    )
    [case] = load_cases([flow])
    assert case.turns == () and case.inputs == {"topic": "SSE", "sections": 2}
    similar = case.assertions[1]
    assert json.loads(similar.value) == outputs  # the outputs as the compact JSON text assertions read
    check_target(case, Target("report-builder"), "workflow")
    assert '\'{"report"' in flow.read_text(encoding="utf-8")  # JSON as a literal string: no escapes

    completion = case_file(tmp_path, "copywriter")
    _chat(completion, app="copywriter", turns=[], inputs={"product_name": "Tui", "brief": None})
    [case] = load_cases([completion])
    assert case.turns == () and case.inputs == {"product_name": "Tui"}  # an empty field is left out


@pytest.mark.parametrize(
    "text",
    ["crlf\r\nline", "escape \x1b[31m red", 'ends with a quote"', "'''\n'''", "tab\tand\nnewline\n"],
)
def test_any_answer_reads_back_exactly(tmp_path, text):
    path = tmp_path / "support-bot.toml"
    _chat(path, answer_or_outputs=text, turns=[text])
    [case] = load_cases([path])
    assert case.assertions[1].value == text and case.turns == (text,)


@pytest.mark.parametrize("nothing", [None, ""])
def test_no_answer_no_similar_and_a_failed_status_is_kept(tmp_path, nothing):
    path = tmp_path / "report-builder.toml"
    _chat(path, app="report-builder", turns=None, answer_or_outputs=nothing, status="failed")
    [case] = load_cases([path])
    assert [(a.type, a.value) for a in case.assertions] == [("status", "failed")]


def test_a_file_that_is_not_toml_is_left_alone(tmp_path):
    path = tmp_path / "support-bot.toml"
    path.write_text("[[case]\nname = ", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        _chat(path)
    assert str(path) in str(caught.value) and "not valid TOML" in str(caught.value)
    assert path.read_text(encoding="utf-8") == "[[case]\nname = "


def test_an_app_id_becomes_a_safe_file_name(tmp_path):
    assert case_file(tmp_path, "../etc/passwd").parent == tmp_path
    assert case_file(tmp_path, "my bot/v2").name == "my-bot-v2.toml"


def test_a_file_with_a_byte_order_mark_gets_the_case_and_keeps_its_mark(tmp_path):
    path = tmp_path / "support-bot.toml"
    path.write_bytes(("\ufeff" + USER_FILE).encode())  # Notepad's UTF-8, which the loader reads
    saved = _chat(path, inputs={"product": "Dify Cloud"})
    assert path.read_bytes().startswith(("\ufeff" + USER_FILE).encode())
    greets, new = load_cases([path])
    assert greets.name == "greets" and new.name == saved.name
