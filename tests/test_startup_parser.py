"""The command line of the console and of --version: parsed by a parser with no commands (their options
and modules stay unloaded), and parsed exactly as the whole parser would."""

from __future__ import annotations

import contextlib
import io

import pytest
from helpers import modules_loaded

from difytui.cli import build_parser


def _commands(parser) -> dict:
    return next(a for a in parser._actions if a.dest == "command").choices


#: Lines that name no command: the console's and --version's.
CONSOLE_LINES = [
    [],
    ["--demo"],
    ["--config", "x.toml"],
    ["--config=x.toml", "--workspace", "prod"],
    ["--work", "prod", "--conf", "x.toml"],  # argparse's unique prefixes
    ["--workspace", "apps"],  # a command's name as an option's value
    ["--demo", "--workspace=demo"],
]


@pytest.mark.parametrize("argv", CONSOLE_LINES)
def test_a_console_line_gets_no_commands_and_the_same_answer(argv):
    lean = build_parser(argv)
    assert not _commands(lean)
    assert vars(lean.parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["apps"],
        ["--demo", "invoke", "x", "-q", "hi"],
        ["--config", "x.toml", "history", "app"],
        ["--workspace", "w", "test", "--json"],
        ["-", "apps"],
        ["--", "apps"],
        ["--demo", "bogus"],
    ],
)
def test_a_line_with_a_word_gets_the_scripts_commands(argv):
    assert _commands(build_parser(argv))["apps"]._actions[1:]  # apps has its options


@pytest.mark.parametrize("argv", [["--config"], ["--demo", "bogus"], ["--bogus"], ["-x"], ["--workspace"]])
def test_a_bad_line_reads_the_same(argv):
    def error(parser) -> str:
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit):
            parser.parse_args(argv)
        return stderr.getvalue()

    assert error(build_parser(argv)) == error(build_parser())


def test_the_console_imports_no_script_command_module(tmp_path):
    """The console's line loads none of the scripts' modules (cli_test alone brought asyncio's
    subprocess support; together ~5 ms of start-up)."""
    code = (
        "import sys\n"
        "from difytui.cli import build_parser\n"
        "build_parser(['--demo']).parse_args(['--demo'])\n"
        "print(*sys.modules)\n"
    )
    loaded = modules_loaded(code, tmp_path)
    scripts = {"difytui.cli_history", "difytui.cli_resume", "difytui.cli_test", "difytui.cli_output"}
    assert not scripts & loaded, sorted(scripts & loaded)


@pytest.mark.parametrize("argv", [[], ["--demo"]])
def test_a_plain_console_line_opens_the_console_as_argparse_reads_it(argv, monkeypatch):
    import difytui.tui
    from difytui import cli

    opened: list[dict] = []
    monkeypatch.setattr(difytui.tui, "run", lambda **how: opened.append(how) or 0)
    assert cli.main(argv) == 0
    args = build_parser().parse_args(argv)
    assert args.command is None
    wanted = {"config_path": args.config, "workspace": args.workspace, "demo": args.demo}
    assert [{**{"config_path": None, "workspace": None}, **opened[0]}] == [wanted]


def test_the_demo_console_line_imports_no_argparse(tmp_path):
    """`difytui --demo` is read without argparse (its import and a parser: ~2.5 ms of start-up)."""
    code = (
        "import sys\n"
        "import difytui.tui\n"
        "difytui.tui.run = lambda **how: print(*sys.modules) or 0\n"
        "from difytui.cli import main\n"
        "main(['--demo'])\n"
    )
    assert "argparse" not in modules_loaded(code, tmp_path)
