"""Case files: loading, [defaults], files, folders, and every error naming its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from difytui.bench.case_files import CaseFileError, check_target, graders, load_cases
from difytui.bench.model import Target
from difytui.errors import ConfigError

GOOD = """\
[defaults]
app = "support-bot"
inputs = { product = "difytui", lang = "fr" }
timeout_s = 30

[[case]]
name = "greets in French"
inputs = { lang = "en" }
query = "Bonjour"
files = ["photo.png", "https://example.com/a.pdf"]
repeat = 3
pass_rate = 0.67

[[case.assert]]
type = "icontains"
value = "bonjour"

[[case.assert]]
type = "not-regex"
value = "(?i)error"

[[case]]
name = "two turns"
turns = ["Bonjour", "And tomorrow?"]
app = "trip-planner"
workspace = "staging"

[[case.assert]]
type = "equals"
path = "result.count"
value = 3
turn = 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(*paths: Path) -> CaseFileError:
    result: list[object] | None = None
    with pytest.raises(CaseFileError) as caught:
        result = list(load_cases(list(paths)))
    assert result is None  # nothing returned
    return caught.value


def test_a_good_file_loads_with_defaults_merged_and_files_resolved(tmp_path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    path = write(tmp_path, "bot.toml", GOOD)
    first, second = load_cases([path])

    assert first.name == "greets in French"
    assert first.app == "support-bot"
    assert first.inputs == {"product": "difytui", "lang": "en"}  # the case's value wins
    assert first.turns == ("Bonjour",)
    assert first.files == (str(tmp_path / "photo.png"), "https://example.com/a.pdf")
    assert (first.repeat, first.pass_rate, first.timeout_s) == (3, 0.67, 30.0)
    assert first.rel == "bot.toml" and first.file == path.absolute()
    assert first.where.line == 6 and first.key_lines["query"].line == 9
    assert first.key_lines["app"].line == 2  # from [defaults]
    icontains, not_regex = first.assertions
    assert (icontains.type, icontains.negate, icontains.value, icontains.where.line) == (
        "icontains",
        False,
        "bonjour",
        14,
    )
    assert (not_regex.type, not_regex.negate, not_regex.label) == ("regex", True, "not-regex")

    assert second.app == "trip-planner" and second.workspace == "staging"
    assert second.turns == ("Bonjour", "And tomorrow?")
    assert second.inputs == {"product": "difytui", "lang": "fr"}
    assert second.repeat == 1 and second.files == ()
    (equals,) = second.assertions
    assert (equals.path, equals.value, equals.turn) == ("result.count", 3, 2)


def test_a_folder_gives_every_toml_file_under_it_sorted_with_rel_paths(tmp_path):
    cases = tmp_path / "cases"
    write(cases, "b.toml", '[[case]]\nname = "b"\napp = "x"\nquery = "q"\n')
    write(cases, "a/deep.toml", '[[case]]\nname = "deep"\napp = "x"\nquery = "q"\n')
    write(cases, "notes.txt", "not a case file")
    write(cases, ".git/config.toml", "not = [valid")
    write(cases, ".#b.toml", "an editor's lock file")
    loaded = load_cases([cases])
    assert [(c.rel, c.name) for c in loaded] == [("a/deep.toml", "deep"), ("b.toml", "b")]
    assert loaded[0].key == "a/deep.toml::deep"
    # The same file given again (alone) is read once; with root its rel stays folder-relative.
    again = load_cases([cases, cases / "b.toml"])
    assert len(again) == 2
    alone = load_cases([cases / "a" / "deep.toml"], root=cases)
    assert alone[0].rel == "a/deep.toml"
    assert load_cases([cases / "a" / "deep.toml"])[0].rel == "deep.toml"


def test_a_judge_assertion_keeps_its_keys(tmp_path):
    path = write(
        tmp_path,
        "j.toml",
        """\
        [[case]]
        name = "judged"
        app = "report-builder"
        inputs = { topic = "x" }

        [[case.assert]]
        type = "judge"
        app = "grader"
        value = "Is it polite?"
        inputs = { text = "{answer}" }
        path = "verdict"
        pass = "^ok"
        """,
    )
    (case,) = load_cases([path])
    (judge,) = case.assertions
    assert (judge.app, judge.value, judge.inputs, judge.path, judge.pass_pattern) == (
        "grader",
        "Is it polite?",
        {"text": "{answer}"},
        "verdict",
        "^ok",
    )
    assert case.turns == ()
    assert graders([case]) == {"grader"}


# Each bad file: (its text, the line the error must name, words the message must contain).
HEAD = '[[case]]\nname = "x"\napp = "a"\nquery = "q"\n'  # a good case, lines 1-4
BAD = {
    "bad TOML": ('[[case]]\nname = "x"\napp = \n', 3, "invalid TOML"),
    "unknown type": (
        HEAD + '[[case.assert]]\ntype = "containz"\n',
        6,
        "unknown assertion type 'containz' (did you mean 'contains'?)",
    ),
    "not- on a run type": (
        HEAD + '[[case.assert]]\ntype = "not-status"\nvalue = "failed"\n',
        6,
        "unknown assertion type 'not-status'",
    ),
    "unknown case key": (HEAD + "qeury2 = 1\n", 5, "unknown key 'qeury2' in [[case]]"),
    "unknown defaults key": (
        '[defaults]\napp = "a"\ncolour = "red"\n',
        3,
        "unknown key 'colour' in [defaults]",
    ),
    "unknown assert key": (
        HEAD + '\n[[case.assert]]\ntype = "contains"\nvalue = "v"\nthreshold = 1\n',
        9,
        "unknown key 'threshold' in a contains assertion",
    ),
    "unknown top-level key": (
        '[cases]\nname = "x"\n',
        1,
        "unknown key 'cases' in a case file (did you mean 'case'?)",
    ),
    "wrong value type": (
        HEAD + '[[case.assert]]\ntype = "contains"\nvalue = 3\n',
        7,
        "value must be a string (got an integer)",
    ),
    "wrong list type": (
        HEAD + '[[case.assert]]\ntype = "contains-any"\nvalue = "a"\n',
        7,
        "value must be an array of strings",
    ),
    "wrong repeat": (HEAD + "repeat = 0\n", 5, "repeat must be a whole number from 1 to 1000 (got 0)"),
    "wrong pass_rate": (HEAD + "pass_rate = 1.5\n", 5, "pass_rate must be more than 0 and at most 1"),
    "wrong inputs": (
        '[defaults]\ninputs = "a"\n[[case]]\nname = "x"\napp = "a"\n',
        2,
        "inputs must be a table (got a string)",
    ),
    "duplicate name": (
        HEAD + '\n[[case]]\nname = "x"\napp = "a"\nquery = "r"\n',
        7,
        "duplicate case name 'x' (first at line 1)",
    ),
    "missing app": (
        '[[case]]\nname = "x"\nquery = "q"\n',
        1,
        "case 'x' has no app: set app in the case or in [defaults]",
    ),
    "missing name": ('[[case]]\napp = "a"\n', 1, "a [[case]] needs a name"),
    "defaults with query": ('[defaults]\napp = "a"\nquery = "q"\n', 3, "query cannot be a default"),
    "defaults with name": ('[defaults]\nname = "n"\n', 2, "name cannot be a default"),
    "query and turns": (
        HEAD + 'turns = ["a"]\n',
        5,
        "give either query (one turn) or turns (several), not both",
    ),
    "empty turns": ('[[case]]\nname = "x"\napp = "a"\nturns = []\n', 4, "turns must list at least one query"),
    "turn past the last": (
        '[[case]]\nname = "x"\napp = "a"\nturns = ["a", "b"]\n'
        '[[case.assert]]\ntype = "contains"\nvalue = "v"\nturn = 3\n',
        8,
        "turn 3: the case has only 2 turns",
    ),
    "bad regex": (
        HEAD + '[[case.assert]]\ntype = "regex"\nvalue = "(unclosed"\n',
        7,
        "value is not a valid regular expression",
    ),
    "bad judge pass": (
        HEAD + '[[case.assert]]\ntype = "judge"\napp = "g"\nvalue = "r"\npass = "["\n',
        9,
        "pass is not a valid regular expression",
    ),
    "judge without app": (
        HEAD + '[[case.assert]]\ntype = "judge"\nvalue = "r"\n',
        6,
        "a judge assertion needs app",
    ),
    "missing value": (HEAD + '[[case.assert]]\ntype = "contains"\n', 6, "a contains assertion needs value"),
    "missing threshold": (
        HEAD + '[[case.assert]]\ntype = "latency"\n',
        6,
        "a latency assertion needs threshold",
    ),
    "bad status": (
        HEAD + '[[case.assert]]\ntype = "status"\nvalue = "ok"\n',
        7,
        "status must be one of succeeded, failed, stopped, partial-succeeded",
    ),
    "similar threshold": (
        HEAD + '[[case.assert]]\ntype = "similar"\nvalue = "v"\nthreshold = 80\n',
        8,
        "a similar threshold is a ratio from 0 to 1",
    ),
    "bad path": (HEAD + '[[case.assert]]\ntype = "equals"\nvalue = 1\npath = "a..b"\n', 8, "path 'a..b'"),
    "missing file": (HEAD + 'files = ["nope.png"]\n', 5, "files: no such file 'nope.png'"),
    "a date in inputs": (
        '[[case]]\nname = "x"\napp = "a"\ninputs = { day = 2026-01-02 }\n',
        4,
        "inputs holds a date, which JSON cannot carry: write it as a string",
    ),
    "a time in equals": (
        HEAD + '[[case.assert]]\ntype = "equals"\npath = "t"\nvalue = [1, 10:30:00]\n',
        8,
        "value holds a time, which JSON cannot carry",
    ),
    "a runaway repeat": (
        HEAD + "repeat = 99999999999999999999\n",
        5,
        "repeat must be a whole number from 1 to 1000",
    ),
    "case not a table array": ('case = "x"\n', 1, "case must be an array of tables"),
    "inline assert tables": (
        HEAD + 'assert = [{ type = "contains", value = 1 }]\n',
        5,
        "value must be a string",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_every_case_file_error_names_file_and_line_and_nothing_loads(tmp_path, name):
    text, line, words = BAD[name]
    good = write(tmp_path, "a-good.toml", '[[case]]\nname = "fine"\napp = "a"\nquery = "q"\n')
    bad = write(tmp_path, "bad.toml", text)
    error = error_of(good, bad)
    assert isinstance(error, ConfigError)
    first = str(error).splitlines()[0]
    assert first.startswith(f"{bad}:{line}: "), str(error)
    assert words in first, str(error)
    assert (error.path, error.line) == (str(bad), line)


def test_every_problem_is_listed_one_line_each_in_file_order(tmp_path):
    bad = write(
        tmp_path,
        "bad.toml",
        """\
        [[case]]
        name = "x"
        query = "q"
        colour = 1

        [[case.assert]]
        type = "contain"
        value = "v"

        [[case]]
        name = "y"
        app = "a"
        query = "q"
        repeat = "twice"
        """,
    )
    lines = str(error_of(bad)).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{bad}:1", f"{bad}:4", f"{bad}:7", f"{bad}:14"]
    assert "unknown key 'colour'" in lines[1] and "repeat must be a whole number" in lines[3]


def test_a_missing_path_and_an_unreadable_file_are_errors(tmp_path):
    error = error_of(tmp_path / "nowhere.toml")
    assert str(error) == f"{tmp_path / 'nowhere.toml'}: no such file or folder"
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[[case]]\nname = "caf\xe9"\n')
    assert "not UTF-8 text" in str(error_of(latin))


def case_from(tmp_path: Path, body: str):
    (case,) = load_cases([write(tmp_path, "c.toml", body)])
    return case


def test_check_target_query_on_a_workflow_or_completion_app_names_the_query_line(tmp_path):
    case = case_from(
        tmp_path, '[defaults]\napp = "report-builder"\n\n[[case]]\nname = "x"\nquery = "hello"\n'
    )
    check_target(case, Target("support-bot"), "chat")
    for interface in ("workflow", "completion"):
        with pytest.raises(CaseFileError) as caught:
            check_target(case, Target("report-builder", "prod"), interface)
        assert str(caught.value) == (
            f"{tmp_path / 'c.toml'}:6: case 'x': prod:report-builder is a {interface} app, "
            "which takes no query: give its inputs only"
        )
    turns = case_from(tmp_path, '[[case]]\nname = "x"\napp = "w"\n\nturns = ["a", "b"]\n')
    with pytest.raises(CaseFileError, match=r"c\.toml:5: .* takes no turns"):
        check_target(turns, Target("w"), "workflow")


def test_check_target_a_chat_app_needs_a_query(tmp_path):
    case = case_from(tmp_path, '\n[[case]]\nname = "x"\napp = "report-builder"\ninputs = { topic = "t" }\n')
    check_target(case, Target("report-builder"), "workflow")
    with pytest.raises(CaseFileError) as caught:
        check_target(case, Target("support-bot"), "chat")
    assert (
        str(caught.value)
        == f"{tmp_path / 'c.toml'}:2: case 'x': support-bot is a chat app: give query or turns"
    )


def test_check_target_a_workflow_grader_needs_inputs(tmp_path):
    case = case_from(
        tmp_path,
        '[[case]]\nname = "x"\napp = "bot"\nquery = "q"\n\n'
        '[[case.assert]]\ntype = "judge"\napp = "grader"\nvalue = "r"\n',
    )
    check_target(case, Target("bot"), "chat", graders={"grader": "chat"})
    with pytest.raises(CaseFileError) as caught:
        check_target(case, Target("bot"), "chat", graders={"grader": "workflow"})
    assert str(caught.value).startswith(
        f"{tmp_path / 'c.toml'}:6: judge app 'grader' is a workflow app: give"
    )


def test_config_errors_still_name_their_line(tmp_path):
    # The line locator moved to difytui/toml_lines.py and is shared with the config loader.
    from difytui.config import load_config

    path = write(tmp_path, "config.toml", '[workspaces.demo]\nbase_url = "http://x"\nbogus = 1\n')
    with pytest.raises(ConfigError, match=r"config\.toml:3: unknown key 'bogus'"):
        load_config(path)


def test_the_full_example_of_the_docs_loads(tmp_path):
    doc = (Path(__file__).parents[2] / "docs" / "test-cases.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    cases = load_cases([write(tmp_path, "support-bot.toml", example)])
    assert [c.name for c in cases] == ["greets in French", "remembers the topic", "report has three sections"]
    assert {a.type for c in cases for a in c.assertions} >= {
        "icontains",
        "contains",
        "similar",
        "judge",
        "equals",
    }
    assert cases[0].inputs == {"product": "difytui", "customer_name": "Ana"} and cases[0].timeout_s == 60


def test_a_byte_order_mark_is_not_a_toml_error(tmp_path):
    # Windows editors (Notepad) start UTF-8 files with one; tomllib calls it an invalid statement
    path = tmp_path / "bom.toml"
    path.write_bytes('\ufeff[[case]]\nname = "b"\napp = "a"\nquery = "x"\nrepeat = 0\n'.encode())
    error = error_of(path)
    assert str(error) == f"{path}:5: repeat must be a whole number from 1 to 1000 (got 0)"
    path.write_bytes('\ufeff[[case]]\nname = "b"\napp = "a"\nquery = "x"\n'.encode())
    [case] = load_cases([path])
    assert case.name == "b"
