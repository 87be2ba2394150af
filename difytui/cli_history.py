"""``difytui history`` and ``difytui export`` (issue 11): look back at an app's conversations and
recorded runs, and export one of them as Markdown or JSON.

Conversations come from Dify (chat apps on a Service API workspace; an account workspace has no
history endpoints, which ``history`` says before listing the local records); runs come from the
local run records. Imported to build the parser: everything heavy loads when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from difytui.cliutil import EXIT_ERROR, EXIT_OK, EXIT_USAGE, say

if TYPE_CHECKING:
    from difytui.export import Format
    from difytui.history import Conversation
    from difytui.run_records import RunRecord, RunRecords
    from difytui.sync_client import Dify

#: runs ``history`` lists (newest first); ``export --run`` reaches older ones by id
HISTORY_RUNS = 100
#: records searched for the runs of one conversation (the default budget's count)
_CONVERSATION_RUNS = 5000


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    global_options: Callable[..., None],
) -> None:
    history = commands.add_parser(
        "history",
        help="list an app's conversations (from Dify) and the runs recorded here",
        description="List APP's conversations (chat apps on a Service API workspace), newest first, "
        f"and the newest {HISTORY_RUNS} runs recorded on this machine.",
    )
    global_options(history, suppress=True)
    history.add_argument("app", metavar="APP", help="app id, or a name only one app has")
    history.add_argument("--json", action="store_true", help="print everything as one JSON object")

    export = commands.add_parser(
        "export",
        help="export a conversation or a recorded run as Markdown or JSON",
        description="Export one conversation of APP (from Dify) or one recorded run (see `difytui "
        "history APP`). Keys and tokens never appear in an export.",
    )
    global_options(export, suppress=True)
    export.add_argument("app", metavar="APP", help="app id, or a name only one app has")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--conversation", "-c", metavar="ID", help="a conversation id")
    which.add_argument("--run", "-r", metavar="ID", help="a recorded run's number (#ID in history)")
    export.add_argument(
        "--format",
        choices=("md", "json"),
        help="md (a readable transcript) or json; default: by -o's suffix, else md",
    )
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: stdout)")


def history(dify: Dify, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from difytui.run_records import RunRecords
    from difytui.store import Store

    app_id = dify.app.resolve(args.app)
    conversations, unavailable = _conversations(dify, app_id)
    with Store() as store:
        runs = RunRecords(store).find(_ws(dify), app_id, limit=HISTORY_RUNS)
    if args.json:
        from difytui.cli_output import emit

        emit(
            {
                "app": app_id,
                "conversations": None if conversations is None else [c.raw for c in conversations],
                "conversations_unavailable": unavailable,
                "runs": [asdict(r) for r in runs],
            },
            indent=2,
        )
        return EXIT_OK
    if unavailable:
        say(f"difytui: {unavailable}")
    out: list[str] = []
    if conversations is not None:
        out.append(f"Conversations of {app_id} ({len(conversations)}, newest first)")
        out += [_conversation_line(c) for c in conversations] or ["  (none)"]
        out.append("")
    shown = f"the newest {HISTORY_RUNS}" if len(runs) == HISTORY_RUNS else str(len(runs))
    out.append(f"Runs of {app_id} recorded here ({shown}, newest first)")
    out += [_run_line(r) for r in runs] or ["  (none)"]
    _print("\n".join(out) + "\n")
    return EXIT_OK


def export(dify: Dify, args: argparse.Namespace) -> int:
    from difytui.run_records import RunRecords
    from difytui.store import Store

    app_id = dify.app.resolve(args.app)
    if args.conversation is not None and not dify.has_history:
        say(
            "difytui: conversations cannot be exported from an account workspace: Dify's account "
            "API has no history endpoints (export a recorded run with --run)"
        )
        return EXIT_USAGE
    with Store() as store:
        text = _export_text(dify, RunRecords(store), app_id, args)
    if text is None:
        say(f"difytui: no run {args.run} of {app_id} is recorded here (see `difytui history {app_id}`)")
        return EXIT_USAGE
    if args.output is None:
        _print(text)
        return EXIT_OK
    path = Path(args.output).expanduser()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        say(f"difytui: cannot write {path}: {error.strerror or error}")
        return EXIT_ERROR
    say(f"difytui: wrote {path}")
    return EXIT_OK


# -- helpers ------------------------------------------------------------------------------------


def _export_text(dify: Dify, records: RunRecords, app_id: str, args: argparse.Namespace) -> str | None:
    """The export's text (None: no such recorded run)."""
    from difytui.export import ConversationExport, export_conversation, export_run

    fmt, secrets = _format(args), _secrets(dify)
    if args.run is not None:
        record = _record(dify, records, app_id, args.run)
        if record is None or record.id is None:
            return None
        return export_run(record, records.events(record.id), fmt, secrets)
    conversation_id = args.conversation
    messages = list(dify.app.messages.all(app_id, conversation_id))  # first: a gone one raises here
    runs = [
        r
        for r in records.find(_ws(dify), app_id, limit=_CONVERSATION_RUNS)
        if r.conversation_id == conversation_id
    ]
    conversation = _find_conversation(dify, app_id, conversation_id)
    return export_conversation(
        ConversationExport(app_id, conversation_id, messages, conversation, runs), fmt, secrets
    )


def _format(args: argparse.Namespace) -> Format:
    if args.format == "json" or (args.format is None and str(args.output or "").endswith(".json")):
        return "json"
    return "md"


def _conversations(dify: Dify, app_id: str) -> tuple[list[Conversation] | None, str | None]:
    """The app's conversations from Dify, or None and why there are none to list."""
    from difytui.models import INTERFACE_BY_MODE

    if not dify.has_history:
        return (
            None,
            "conversations: Dify's account API has no history endpoints; listing the runs recorded here",
        )
    if INTERFACE_BY_MODE.get(str(dify.app.info(app_id).get("mode", ""))) != "chat":
        return None, None  # workflow and completion apps have runs, not conversations
    return list(dify.app.conversations.all(app_id)), None


def _find_conversation(dify: Dify, app_id: str, conversation_id: str) -> Conversation | None:
    """The conversation's name and times: Dify lists conversations but has no lookup by id, so the
    list is walked (newest first: an exported one is usually recent)."""
    for conversation in dify.app.conversations.all(app_id):
        if conversation.id == conversation_id:
            return conversation
    return None


def _ws(dify: Dify) -> str:
    from difytui.store import workspace_key

    return workspace_key(dify.workspace)


def _record(dify: Dify, records: RunRecords, app_id: str, given: str) -> RunRecord | None:
    try:
        record_id = int(given.lstrip("#"))
    except ValueError:
        return None
    record = records.get(record_id)
    if record is None or record.app_id != app_id or record.ws != _ws(dify):
        return None
    return record


def _secrets(dify: Dify) -> list[str]:
    """The workspace's keys the config holds, for the export to mask (the shapes of keys and
    tokens are masked anyway)."""
    return [entry.api_key.reveal() for entry in dify.workspace.apps.values() if entry.api_key is not None]


def _conversation_line(c: Conversation) -> str:
    from difytui.text import printable

    name = " ".join(printable(c.name).split()) or "(unnamed)"
    return f"  {c.id}  {_when(c.updated_at or c.created_at)}  {name}"


def _run_line(r: RunRecord) -> str:
    from difytui.run_compare import show_seconds
    from difytui.text import printable

    what = r.query or r.answer or r.error or ""
    tokens = f"{r.total_tokens} tok" if r.total_tokens is not None else ""
    text = " ".join(printable(what).split())
    text = text if len(text) <= 50 else text[:49] + "…"
    status = printable(r.status)
    return f"  #{r.id:<5} {_when(r.started)}  {status:<10} {show_seconds(r.elapsed):>7} {tokens:>9}  {text}"


def _when(stamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "—"


def _print(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
