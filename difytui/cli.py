"""The ``difytui`` command: the TUI by default, ``apps`` and ``invoke`` for scripts and CI.

Exit codes: 0 ok; 1 API or connection error (also a stream ending in an ``error`` event or a failed
run); 2 usage or configuration error; 3 the run paused on a Human Input form (``difytui resume``
goes on); 130 interrupted (the running task is stopped first).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import AppNotFoundError, ConfigError, DifyDeadlineError, DifyError
from difytui.text import printable

if TYPE_CHECKING:
    import argparse

    from difytui.models import AppInfo
    from difytui.sync_client import Dify


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # The same options before or after the subcommand; SUPPRESS keeps a subparser from resetting them.
    import argparse

    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="PATH", default=default, help="config file to use")
    parser.add_argument("--workspace", metavar="NAME", default=default, help="workspace from the config")
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the built-in simulated Dify workspace (no server needed)",
    )


#: Commands whose modules import httpx and tomlkit. Unless the command line names one (or asks for
#: help, which lists them), the parser holds a bare stub for each, so ``apps`` and ``invoke`` never
#: pay for those imports. A stub is never what parses: its name is absent. A line that names no
#: command at all (the console, ``--version``) gets no commands: their options and modules cost the
#: console's start-up ~8 ms.
_HEAVY_COMMANDS = ("login", "logout", "workspace", "config")
#: Global options that take a value (argparse also accepts a unique prefix, such as ``--work``).
_VALUE_OPTIONS = ("--config", "--workspace")


def _wants_all(argv: Sequence[str]) -> bool:
    # "-h"/"--h…" also catches argparse's abbreviations of --help.
    return any(arg in _HEAVY_COMMANDS or arg.startswith(("-h", "--h")) for arg in argv)


def _names_a_command(argv: Sequence[str]) -> bool:
    """Whether a word of the line may be a command: any word that is not a global option or its
    value. When unsure it says yes (the whole parser is only slower, never wrong)."""
    value_next = False
    for arg in argv:
        if value_next:
            value_next = False
        elif arg.startswith("--") and len(arg) > 2:
            value_next = "=" not in arg and any(option.startswith(arg) for option in _VALUE_OPTIONS)
        else:  # a word, "-", "--" or a short option (none is global)
            return True
    return False


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the command line, one with only what that line can use."""
    import argparse

    full = argv is None or _wants_all(argv)
    epilog = None
    if full:  # the epilog shows only in --help; paths imports platformdirs
        from difytui import paths

        epilog = (
            f"Config: --config PATH, else $DIFYTUI_CONFIG, else {paths.default_config_path()}. "
            "State (conversations, last inputs): " + str(paths.state_db_path())
        )
    parser = argparse.ArgumentParser(
        prog="difytui",
        description="A terminal console for the apps of a Dify workspace. "
        "With no command it opens the console; `apps`, `invoke`, `history` and `export` are for scripts.",
        epilog=epilog,
    )
    _global_options(parser, suppress=False)
    from difytui import __version__

    parser.add_argument("--version", action="version", version=f"difytui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    if not full and not _names_a_command(argv or ()):
        return parser  # no command to parse: not even stubs (each parser built costs ~0.3 ms)

    apps = commands.add_parser("apps", help="list the workspace's apps by interface")
    _global_options(apps, suppress=True)
    apps.add_argument("--json", action="store_true", help="print each app's fields as JSON")

    invoke = commands.add_parser(
        "invoke",
        help="run an app, printing one JSON event per line (or the result with --blocking)",
        description="Run APP. Streaming prints each event as one JSON line on stdout; "
        "messages for humans go to stderr. Exit codes: 0 ok; 1 error or failed run; 2 usage; "
        "3 the run paused on a Human Input form (shown on stderr; `difytui resume` fills it); "
        "130 interrupted.",
    )
    _global_options(invoke, suppress=True)
    invoke.add_argument("app", metavar="APP", help="app id, or a name only one app has (see `difytui apps`)")
    invoke.add_argument("--query", "-q", help="the message (chat apps)")
    invoke.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input variable (repeatable); typed by the app's form",
    )
    invoke.add_argument("--inputs-json", metavar="JSON", help="inputs as a JSON object")
    invoke.add_argument(
        "--conversation",
        "-c",
        metavar="ID",
        help="continue this conversation (chat apps); its recorded inputs are reused",
    )
    invoke.add_argument("--blocking", action="store_true", help="wait and print the whole result")
    invoke.add_argument(
        "--text",
        action="store_true",
        help="print only the answer (or the outputs) as plain text, as it streams",
    )
    invoke.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds to wait for each read of the run's answer (default: the workspace's timeout)",
    )
    invoke.add_argument(
        "--file", "-f", action="append", default=[], metavar="PATH", help="attach a file or URL (repeatable)"
    )
    from difytui import cli_history, cli_resume, cli_test

    cli_resume.add_parser(commands, _global_options)
    cli_history.add_parsers(commands, _global_options)
    cli_test.add_parser(commands, _global_options)
    if not full:
        for name in _HEAVY_COMMANDS:
            commands.add_parser(name)
        return parser
    from difytui import cli_account

    cli_account.add_parsers(commands, _global_options)
    from difytui import cli_workspace

    cli_workspace.add_parser(commands, _global_options)
    from difytui import cli_config

    cli_config.add_parser(commands, _global_options)
    return parser


def _plain_console(line: Sequence[str]) -> bool | None:
    """Whether a plain console line (none, or ``--demo`` alone) asks for the demo; None for any other
    line. Those two are read without argparse: its import and a parser cost the console's start-up
    ~2.5 ms (tests/test_startup_parser.py checks argparse reads them the same)."""
    if not line:
        return False
    return True if list(line) == ["--demo"] else None


def main(argv: list[str] | None = None) -> int:
    demo = _plain_console(sys.argv[1:] if argv is None else argv)
    if demo is not None:
        from difytui.tui import run

        return run(demo=demo)
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    if args.demo and args.workspace not in (None, "demo"):
        _say(f"difytui: --demo has its own workspace; --workspace {args.workspace} is for a config's")
        return EXIT_USAGE
    if args.command is None:
        from difytui.tui import run

        return run(config_path=args.config, workspace=args.workspace, demo=args.demo)
    from difytui import cli_output  # not before: the console has no use for it

    cli_output.new_command()
    if args.command in ("login", "logout"):
        from difytui import cli_account

        return cli_account.run(args)
    if args.command == "workspace":
        from difytui import cli_workspace

        return cli_workspace.run(args)
    if args.command == "config":
        from difytui import cli_config

        return cli_config.run(args)
    if args.command == "test":
        from difytui import cli_test

        return cli_test.run(args)
    sim = None
    try:
        if args.demo:
            from difytui.demo import start_demo

            sim, workspace = start_demo()
        else:
            from difytui.config import load_config

            workspace = load_config(args.config).workspace(args.workspace)
        from difytui.client import Dify

        with Dify(workspace=workspace) as dify:
            if args.command == "apps":
                return _apps(dify, json_output=args.json)
            if args.command == "resume":
                from difytui import cli_resume

                return cli_resume.run(dify, args)
            if args.command in ("history", "export"):
                from difytui import cli_history

                return (
                    cli_history.history(dify, args)
                    if args.command == "history"
                    else cli_history.export(dify, args)
                )
            from difytui.cli_invoke import invoke

            return invoke(dify, args)
    except (ConfigError, AppNotFoundError) as error:
        _say(f"difytui: {error}")
        return EXIT_USAGE
    except DifyError as error:
        _say(f"difytui: {error}")
        if error.stopped_task and not isinstance(error, DifyDeadlineError):  # a deadline says so itself
            _say(f"difytui: stopped task {error.stopped_task} on the server")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("difytui: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `difytui apps | head -1`
        cli_output.silence_stdout()
        return EXIT_OK
    finally:
        if sim is not None:
            sim.stop()


# -- apps --------------------------------------------------------------------------------------


def _apps(dify: Dify, *, json_output: bool) -> int:
    apps = dify.apps()
    if json_output:
        from difytui.cli_output import emit

        emit([app.to_dict() for app in apps], indent=2)
        return _report_broken(apps)
    from difytui.models import MODE_LABELS

    print(f"Workspace {printable(dify.workspace.name)} ({printable(dify.base_url)})")
    width = max((len(app.id) for app in apps), default=0)
    from difytui.models import INTERFACE_TITLES

    for interface, title in INTERFACE_TITLES:
        group = [app for app in apps if app.interface == interface]
        if group:
            print(f"\n{title}")
            for app in group:
                badge = MODE_LABELS.get(app.mode, app.mode)
                line = f"  {app.id:<{width}}  {app.name} [{badge}]"
                if app.description:
                    line += f" — {app.description}"
                print(printable(line))
    return _report_broken(apps)


def _report_broken(apps: list[AppInfo]) -> int:
    """Apps that cannot be run (no key, an error, an unknown mode) fail the command, named on stderr."""
    broken = [app for app in apps if app.interface is None]
    for app in broken:  # problems go to stderr, so stdout stays the listing
        _say(f"difytui: {app.id}: {app.error or 'unknown mode ' + repr(app.mode)}")
    if broken:
        names = ", ".join(app.id for app in broken)
        _say(f"difytui: {len(broken)} of {len(apps)} app(s) unavailable: {names}")
    return EXIT_ERROR if broken else EXIT_OK
