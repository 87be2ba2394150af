"""The ``difytui`` command: the TUI by default, ``apps`` and ``invoke`` for scripts and CI.

Exit codes: 0 ok; 1 API or connection error (also a stream ending in an ``error`` event or a failed
run); 2 usage or configuration error; 130 interrupted (the running task is stopped first).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import (
    AppNotFoundError,
    ConfigError,
    DifyDeadlineError,
    DifyError,
    DifyProtocolError,
    RunInterrupted,
)
from difytui.models import UNKNOWN_STATUS, run_status
from difytui.text import article, printable

if TYPE_CHECKING:
    from difytui.cli_inputs import Watched
    from difytui.flows import ResponseMode
    from difytui.sync_client import Dify


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # The same options before or after the subcommand; SUPPRESS keeps a subparser from resetting them.
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
#: help, which lists them), the parser holds a bare stub for each, so the console, ``--version``,
#: ``apps`` and ``invoke`` never pay for those imports. A stub is never what parses: its name is absent.
_HEAVY_COMMANDS = ("login", "logout", "workspace")


def _wants_all(argv: Sequence[str]) -> bool:
    # "-h"/"--h…" also catches argparse's abbreviations of --help.
    return any(arg in _HEAVY_COMMANDS or arg.startswith(("-h", "--h")) for arg in argv)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the command line, one with only what that line can use."""
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
        "With no command it opens the console; `apps` and `invoke` are for scripts.",
        epilog=epilog,
    )
    _global_options(parser, suppress=False)
    from difytui import __version__

    parser.add_argument("--version", action="version", version=f"difytui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    apps = commands.add_parser("apps", help="list the workspace's apps by interface")
    _global_options(apps, suppress=True)
    apps.add_argument("--json", action="store_true", help="print each app's fields as JSON")

    invoke = commands.add_parser(
        "invoke",
        help="run an app, printing one JSON event per line (or the result with --blocking)",
        description="Run APP. Streaming prints each event as one JSON line on stdout; "
        "messages for humans go to stderr.",
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
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds to wait for each read of the run's answer (default: the workspace's timeout)",
    )
    invoke.add_argument(
        "--file", "-f", action="append", default=[], metavar="PATH", help="attach a file or URL (repeatable)"
    )
    from difytui import cli_test

    cli_test.add_parser(commands, _global_options)
    if not full:
        for name in _HEAVY_COMMANDS:
            commands.add_parser(name)
        return parser
    from difytui import cli_account

    cli_account.add_parsers(commands, _global_options)
    from difytui import cli_workspace

    cli_workspace.add_parser(commands, _global_options)
    return parser


def main(argv: list[str] | None = None) -> int:
    global _warned_non_finite
    _warned_non_finite = False  # one warning per command, also when main() runs twice in a process
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    if args.command is None:
        from difytui.tui import run

        return run(config_path=args.config, workspace=args.workspace, demo=args.demo)
    if args.command in ("login", "logout"):
        from difytui import cli_account

        return cli_account.run(args)
    if args.command == "workspace":
        from difytui import cli_workspace

        return cli_workspace.run(args)
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
            return _invoke(dify, args)
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
        _silence_stdout()
        return EXIT_OK
    finally:
        if sim is not None:
            sim.stop()


#: json.dumps escapes C0 controls but, with ensure_ascii=False, not DEL and the C1 range (which some
#: terminals obey like ESC), nor lone surrogates (legal in JSON text, but no encoding can write them):
#: escape those too, so server text cannot drive the terminal and every line can be written.
_UNSAFE = re.compile(r"[\x7f-\x9f\ud800-\udfff]")
_warned_non_finite = False


def _emit(obj: object, *, indent: int | None = None) -> None:
    """Write ``obj`` as strict JSON (RFC 8259) on stdout.

    NaN and ±Infinity (Python's json reads them) are not JSON: they are written as ``null``, as
    JavaScript's JSON.stringify does, with one warning on stderr.
    """
    global _warned_non_finite
    try:
        try:
            text = _json_line(obj, indent)
        except ValueError:
            text = _json_line(_finite(obj), indent)
            if not _warned_non_finite:
                _warned_non_finite = True
                _say("difytui: warning: the server sent NaN or Infinity, not JSON values: printed as null")
        try:
            sys.stdout.write(text + "\n")
        except UnicodeEncodeError:  # stdout is not UTF-8 (PYTHONIOENCODING=ascii…): escape all non-ASCII
            sys.stdout.write(_json_line(_finite(obj), indent, ascii_only=True) + "\n")
    except RecursionError:
        raise DifyProtocolError("the server sent JSON nested too deeply to print") from None
    sys.stdout.flush()


def _json_line(obj: object, indent: int | None, *, ascii_only: bool = False) -> str:
    text = json.dumps(obj, ensure_ascii=ascii_only, indent=indent, allow_nan=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(value: object) -> object:
    """``value`` with every NaN and ±Infinity replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


# -- apps --------------------------------------------------------------------------------------


def _apps(dify: Dify, *, json_output: bool) -> int:
    apps = dify.apps()
    if json_output:
        _emit([app.to_dict() for app in apps], indent=2)
        return EXIT_OK
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
    broken = [app for app in apps if app.interface is None]
    for app in broken:  # problems go to stderr, so stdout stays the listing
        _say(f"difytui: {app.id}: {app.error or 'unknown mode ' + repr(app.mode)}")
    return EXIT_ERROR if broken and len(broken) == len(apps) else EXIT_OK


# -- invoke ------------------------------------------------------------------------------------


def _invoke(dify: Dify, args: argparse.Namespace) -> int:
    from difytui import cli_inputs
    from difytui.forms import FormError, parse_form, validate
    from difytui.models import INTERFACE_BY_MODE

    args.app = dify.app.resolve(args.app)  # an id, or a name only one app has
    mode = str(dify.app.info(args.app).get("mode", ""))
    interface = INTERFACE_BY_MODE.get(mode)
    if interface is None:
        _say(f"difytui: app {args.app!r} has mode {mode!r}, which difytui cannot run")
        return EXIT_ERROR
    if interface == "chat" and not args.query:
        _say(f"difytui: {args.app} is a chat app: give the message with --query")
        return EXIT_USAGE
    if interface != "chat" and (args.query or args.conversation):
        _say(f"difytui: {args.app} is {article(interface)} app: it takes inputs, not --query/--conversation")
        return EXIT_USAGE

    parameters = dify.app.parameters(args.app)
    fields = parse_form(parameters)
    memory = cli_inputs.ConversationInputs(dify.workspace, args.app) if interface == "chat" else None
    recorded = memory.recorded(args.conversation) if memory and args.conversation else None
    try:
        given = cli_inputs.given_inputs(fields, args.inputs_json, args.input, recorded)
    except (ValueError, FormError) as error:
        _say(f"difytui: {error}")
        return EXIT_USAGE
    inputs = given.values
    warning = cli_inputs.unknown_inputs_warning(args.app, parameters, given.named)
    if warning:
        _say(f"difytui: {warning}")
    if given.reused:
        _say(
            f"difytui: using the inputs recorded for conversation {args.conversation}: "
            f"{', '.join(given.reused)} (-i KEY=VALUE changes one)"
        )
    problems = validate(fields, inputs)
    if problems:
        for message in problems.values():
            _say(f"difytui: input error: {message}")
        missing = any(f.required and inputs.get(f.variable) is None for f in fields if f.variable in problems)
        if args.conversation and recorded is None and missing:
            _say(f"difytui: {cli_inputs.missing_inputs_hint(args.conversation)}")
        return EXIT_USAGE

    mode_arg: ResponseMode = "blocking" if args.blocking else "streaming"
    missing_files = [p for p in args.file if "://" not in p and not Path(p).expanduser().is_file()]
    if missing_files:
        _say(f"difytui: --file {missing_files[0]}: no such file")
        return EXIT_USAGE
    dropped = cli_inputs.dropped_files_warning(args.app, parameters, mode, args.file)
    if dropped:
        _say(f"difytui: {dropped}")
    wanted = [] if dropped else args.file
    files = [str(Path(p).expanduser()) if "://" not in p else p for p in wanted] or None
    if args.timeout is not None:
        if not args.timeout > 0:
            _say("difytui: --timeout must be a number of seconds above 0")
            return EXIT_USAGE
        dify.set_read_timeout(args.timeout)  # the run's reads only: the app's metadata is already read
    try:
        if interface == "chat":
            call = dify.app.chat.invoke(args.app, args.query, inputs, mode_arg, args.conversation, files)
        else:
            api = dify.app.workflow if interface == "workflow" else dify.app.completion
            call = api.invoke(args.app, inputs, mode_arg, files)
    except RunInterrupted as interrupt:  # Ctrl+C in --blocking: the library has stopped the run
        if interrupt.stopped:
            _say(f"difytui: interrupted; stopped task {interrupt.task_id}")
        elif interrupt.task_id:
            _say(f"difytui: interrupted; could not stop task {interrupt.task_id}")
        else:
            _say("difytui: interrupted before Dify named the task; it may still finish on the server")
        return EXIT_INTERRUPTED
    recording = cli_inputs.Recording(memory, inputs)  # so that a follow-up can reuse the inputs
    if isinstance(call, dict):  # --blocking: the folded result
        recording.seen(call)
        _emit(call, indent=2)
        _warn_new_conversation(args.conversation, call.get("conversation_id"))
        return _report_result(call, args)
    return _stream(dify, args, recording.watch(call))


def _stream(dify: Dify, args: argparse.Namespace, events: Watched) -> int:
    from difytui._http import task_id_of

    task_id = None
    warned = False
    last: dict[str, Any] = {}
    finished: dict[str, Any] | None = None  # a chatflow's comes before message_end
    try:
        for event in events:
            # The task id first: a Ctrl+C during the print below must still be able to stop the run.
            task_id = task_id or task_id_of(event)
            last = event
            if event.get("event") == "workflow_finished":
                finished = event
            _emit(event)
            if not warned:
                warned = _warn_new_conversation(args.conversation, event.get("conversation_id"))
    except KeyboardInterrupt:
        events.close()
        if task_id:
            _say(f"difytui: interrupted; stopping task {task_id}")
        else:
            _say("difytui: interrupted before Dify named the task; it may still finish on the server")
        _stop(dify, args.app, task_id)
        return EXIT_INTERRUPTED
    except DifyError as error:
        # A read timeout, a cut, a bad event…: nobody will read the rest, so the run must not go on.
        events.close()
        _say(f"difytui: {error}")
        if task_id and not error.stopped_task:
            _say(f"difytui: stopping task {task_id} on the server")
            _stop(dify, args.app, task_id)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`| head -1`): nobody wants the rest, so stop the run quietly.
        events.close()
        _stop(dify, args.app, task_id, quiet=True)
        _silence_stdout()
        return EXIT_OK
    if finished is not None and run_status(finished.get("data")) == UNKNOWN_STATUS:
        _say("difytui: the run's end could not be read: workflow_finished came without a status")
        return EXIT_ERROR
    return _report_result(last, args)


def _stop(dify: Dify, app_id: str, task_id: str | None, *, quiet: bool = False) -> None:
    if not task_id:
        return
    try:
        dify.app.stop(app_id, task_id)
    except DifyError as error:
        if not quiet:
            _say(f"difytui: could not stop the task: {error}")


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _warn_new_conversation(sent: str | None, got: str | None) -> bool:
    """Dify silently starts a new conversation for an id it doesn't know (chatflow): say so."""
    if not (sent and got and got != sent):
        return False
    _say(f"difytui: warning: conversation {sent} was not found; Dify started a new conversation {got}")
    return True


def _report_result(last: dict[str, Any], args: argparse.Namespace) -> int:
    """Exit status from the final event (streaming) or the result (blocking); hints on stderr."""
    if last.get("event") == "error":
        code = f" {last['code']}" if last.get("code") else ""
        _say(f"difytui: the run failed ({last.get('status', '')}{code}): {last.get('message', '')}")
        return EXIT_ERROR
    data = last.get("data")
    if not isinstance(data, dict):
        data = {}
    status = run_status(data)
    if status in ("failed", "stopped"):
        _say(f"difytui: the run {status}: {data.get('error') or 'no details'}")
        return EXIT_ERROR
    conversation = last.get("conversation_id")
    if conversation:
        _say(f"difytui: continue with --conversation {conversation}")
    return EXIT_OK
