"""``difytui resume``: fill a paused run's Human Input form and follow the rest of the run.

``invoke`` on a run that pauses prints the events up to ``workflow_paused``, the form on stderr,
records it (:mod:`difytui.human_input_store`) and exits with :data:`EXIT_PAUSED`. Then:

* ``difytui resume APP RUN_ID --action ID [-i name=value]…`` submits the form (every input: the
  form's defaults, changed by ``-i``) and prints the resumed run's events as JSON lines. The
  listener (snapshot + continue_on_pause) is opened *before* the submit, so no event is lost; its
  replay of the run so far is not printed again. A chatflow's answer is checked against
  ``workflow_finished.outputs.answer`` (Dify 1.14.2 drops resumed text: ``--text`` prints the
  whole answer; JSON output gets a note on stderr). A second form pauses again (exit 3).
* ``difytui resume APP RUN_ID`` only re-attaches: the run so far, then whatever comes.
* ``difytui resume --list`` lists the pending forms difytui knows for the workspace.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from difytui.cli_output import TextOutput, emit
from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import (
    DifyError,
    FormAlreadySubmittedError,
    FormExpiredError,
    FormNotFoundError,
    InvalidFormDataError,
)

if TYPE_CHECKING:
    from difytui.human_input import HumanInputForm
    from difytui.human_input_store import PendingForms
    from difytui.sync_client import Dify

#: ``invoke``/``resume`` exit code: the run paused on a Human Input form (resume it with ``resume``)
EXIT_PAUSED = 3
JSON = dict[str, Any]


def add_parser(commands: Any, global_options: Any) -> None:
    parser = commands.add_parser(
        "resume",
        help="fill a paused run's form and stream the rest (or --list the pending forms)",
        description="Submit the Human Input form of a paused workflow or chatflow run and print the "
        "resumed run's events as JSON lines (stderr: messages). Without --action, only re-attach. "
        f"Exit codes: 0 finished; 1 error or failed run; 2 usage or a refused form; {EXIT_PAUSED} the "
        "run paused on a form again; 130 interrupted.",
    )
    global_options(parser, suppress=True)
    parser.add_argument("app", metavar="APP", nargs="?", help="app id, or a name only one app has")
    parser.add_argument("run_id", metavar="RUN_ID", nargs="?", help="the paused run's workflow_run_id")
    parser.add_argument("--action", "-a", metavar="ID", help="the form's action to take (e.g. approve)")
    parser.add_argument(
        "--input", "-i", action="append", default=[], metavar="NAME=VALUE", help="a form field (repeatable)"
    )
    parser.add_argument("--text", action="store_true", help="print only the answer or outputs as text")
    parser.add_argument("--list", action="store_true", help="list the pending forms difytui knows")


def _pending() -> tuple[Any, PendingForms]:
    from difytui.human_input_store import PendingForms
    from difytui.store import Store

    store = Store()
    return store, PendingForms(store)


def report_pause(dify: Dify, app_id: str, forms: list[HumanInputForm], pause: JSON) -> int:
    """The run paused: keep its forms for ``resume`` and show them on stderr."""
    from difytui.store import workspace_key

    store, pending = _pending()
    with store:
        for form in forms:
            if form.form_token and form.display_in_ui:
                pending.record(workspace_key(dify.workspace), app_id, form, pause)
    for form in forms:
        show_form(form)
    run_id = forms[0].workflow_run_id if forms else str(pause.get("workflow_run_id") or "")
    fillable = [f for f in forms if f.display_in_ui]
    if fillable:
        form = fillable[0]
        fields = " ".join(f"-i {name}=…" for name in form.prefill())
        action = form.actions[0].id if form.actions else "ID"
        _say(f"difytui: resume with: difytui resume {app_id} {run_id} --action {action} {fields}".rstrip())
    return EXIT_PAUSED


def show_form(form: HumanInputForm) -> None:
    title = form.node_title or form.node_id or "a form"
    _say(f"difytui: the run paused on a Human Input form: {title}")
    if not form.display_in_ui:
        _say("difytui: this form is not delivered to the web app: it cannot be filled from here")
        return
    for line in form.form_content.splitlines() or [""]:
        _say(f"  | {line}")
    prefill = form.prefill()
    for field in form.inputs:
        extra = f" one of: {', '.join(field.options)}" if field.options else ""
        default = f" (default: {prefill[field.name]!r})" if prefill.get(field.name) else ""
        _say(f"  input {field.name}: {field.type}{extra}{default}")
    actions = ", ".join(f"{a.id} ({a.title})" for a in form.actions)
    _say(f"  actions: {actions}")
    _say(f"  form token: {form.form_token}")
    if form.expiration_time is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(form.expiration_time))
        _say(f"  expires: {when}")


def run(dify: Dify, args: argparse.Namespace) -> int:
    from difytui.store import workspace_key

    ws = workspace_key(dify.workspace)
    if args.list:
        return _list(ws)
    if not args.app or not args.run_id:
        _say("difytui: resume needs APP and RUN_ID (or --list)")
        return EXIT_USAGE
    args.app = dify.app.resolve(args.app)
    if not args.action:
        return _follow(dify, args, skip_replay=False)
    store, pending = _pending()
    with store:
        known = pending.for_run(ws, args.run_id)
    form = known[0].form if known else _discover(dify, args)
    if form is None:
        _say(f"difytui: run {args.run_id} has no pending form (see `difytui resume --list`)")
        return EXIT_ERROR
    try:
        fresh = dify.app.human_input.get(args.app, form.form_token)
    except (FormAlreadySubmittedError, FormExpiredError, FormNotFoundError) as error:
        _forget(ws, form.form_token)
        _say(f"difytui: {error}")
        return EXIT_ERROR
    fresh.workflow_run_id = args.run_id
    inputs = fresh.prefill()
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep or name not in inputs:
            _say(f"difytui: -i {item}: the form's fields are {', '.join(inputs) or 'none'} (NAME=VALUE)")
            return EXIT_USAGE
        inputs[name] = value
    if fresh.action(args.action) is None:
        actions = ", ".join(a.id for a in fresh.actions)
        _say(f"difytui: --action {args.action}: the form's actions are {actions}")
        return EXIT_USAGE
    # Listen first, then submit: what the resumed run sends before we read is buffered, not lost.
    stream = dify.app.events(args.app, args.run_id, include_state_snapshot=True, continue_on_pause=True)
    try:
        dify.app.human_input.submit(args.app, fresh.form_token, inputs, args.action)
    except DifyError as error:
        stream.close()
        if isinstance(error, (FormAlreadySubmittedError, FormExpiredError)):
            _forget(ws, fresh.form_token)
        _say(f"difytui: {error}")
        return EXIT_USAGE if isinstance(error, InvalidFormDataError) else EXIT_ERROR
    _forget(ws, fresh.form_token)
    return _print_stream(dify, args, stream, skip_replay=True)


def _discover(dify: Dify, args: argparse.Namespace) -> HumanInputForm | None:
    """A run difytui did not record (another machine, the console): its snapshot names the form."""
    from difytui.human_input import forms_in

    events = list(dify.app.events(args.app, args.run_id, include_state_snapshot=True))
    forms = [f for e in events if e.get("event") == "human_input_required" for f in forms_in(e)]
    return forms[-1] if forms else None


def _forget(ws: str, token: str) -> None:
    store, pending = _pending()
    with store:
        pending.remove(ws, token)


def _list(ws: str) -> int:
    store, pending = _pending()
    with store:
        forms = pending.pending(ws)
    if not forms:
        _say("difytui: no pending forms")
        return EXIT_OK
    for item in forms:
        emit(item.to_dict())
    return EXIT_OK


def _follow(dify: Dify, args: argparse.Namespace, *, skip_replay: bool) -> int:
    stream = dify.app.events(args.app, args.run_id, include_state_snapshot=True)
    return _print_stream(dify, args, stream, skip_replay=skip_replay)


def _print_stream(dify: Dify, args: argparse.Namespace, stream: Any, *, skip_replay: bool) -> int:
    """Print the run's events (after the replayed pause, when ``skip_replay``) until it finishes or
    pauses again; reconcile a chatflow's answer with workflow_finished.outputs.answer."""
    from difytui.human_input import forms_in
    from difytui.models import run_status

    text = TextOutput() if args.text else None
    replaying = skip_replay
    streamed: list[str] = []
    required: list[HumanInputForm] = []
    finished: JSON | None = None
    try:
        for event in stream:
            kind = event.get("event")
            if replaying:
                # the snapshot ends with the pause being resumed; a finished run sends only its end
                replaying = kind not in ("workflow_paused", "workflow_finished")
                if kind != "workflow_finished":
                    continue
            if kind == "message" and isinstance(event.get("answer"), str):
                streamed.append(event["answer"])
            if kind == "human_input_required":
                required += forms_in(event)
            if text is None:
                emit(event)
            elif kind != "message" and kind != "workflow_finished":
                text.event(event)
            if kind == "workflow_paused":
                stream.close()
                if text is not None:
                    text.end_line()
                return report_pause(dify, args.app, required or forms_in(event), event)
            if kind == "workflow_finished":
                finished = event
    except KeyboardInterrupt:
        stream.close()
        _say("difytui: interrupted (the run goes on on the server; `difytui resume` re-attaches)")
        return EXIT_INTERRUPTED
    except DifyError as error:
        stream.close()
        _say(f"difytui: {error}")
        return EXIT_ERROR
    data = finished.get("data") if finished else None
    data = data if isinstance(data, dict) else {}
    outputs = data.get("outputs") if isinstance(data.get("outputs"), dict) else {}
    answer = outputs.get("answer") if isinstance(outputs, dict) else None
    if text is not None:
        if isinstance(answer, str):
            text.result({"answer": answer})
        elif finished is not None:
            text.event(finished)
            text.end_line()
    elif isinstance(answer, str) and "".join(streamed) != answer:
        _say(
            "difytui: the resumed stream carried only part of the answer (Dify drops text after a "
            "pause); the whole answer is workflow_finished.data.outputs.answer"
        )
    status = run_status(data)
    if finished is None or status in ("failed", "stopped"):
        _say(f"difytui: the run {status}: {data.get('error') or 'no details'}")
        return EXIT_ERROR
    return EXIT_OK
