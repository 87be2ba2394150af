"""``difytui invoke``: run an app once, printing its events (JSON lines), its result, or its text."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.cli_output import TextOutput, emit, silence_stdout
from difytui.cli_records import RunRecording, blocking_events
from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import DifyError, RunInterrupted
from difytui.models import UNKNOWN_STATUS, run_status
from difytui.text import article

if TYPE_CHECKING:
    from difytui.cli_inputs import Recording, Watched
    from difytui.flows import ResponseMode
    from difytui.form_fields import Field
    from difytui.streams import EventStream
    from difytui.sync_client import Dify


def invoke(dify: Dify, args: argparse.Namespace) -> int:
    from difytui import cli_inputs
    from difytui.fold import Folded
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
    too_big = _oversized(fields, inputs, parameters, wanted)
    if too_big:
        for message in too_big:
            _say(f"difytui: {message}")  # before anything is uploaded: Dify would refuse it (413)
        return EXIT_USAGE
    files = [str(Path(p).expanduser()) if "://" not in p else p for p in wanted] or None
    if args.timeout is not None:
        if not args.timeout > 0:
            _say("difytui: --timeout must be a number of seconds above 0")
            return EXIT_USAGE
        dify.set_read_timeout(args.timeout)  # the run's reads only: the app's metadata is already read
    run = RunRecording(dify, args.app, interface, inputs, args.query if interface == "chat" else None)
    recording = cli_inputs.Recording(memory, inputs)  # so that a follow-up can reuse the inputs

    def start() -> dict[str, Any] | EventStream:
        if interface == "chat":
            return dify.app.chat.invoke(args.app, args.query, inputs, mode_arg, args.conversation, files)
        api = dify.app.workflow if interface == "workflow" else dify.app.completion
        return api.invoke(args.app, inputs, mode_arg, files)

    try:
        call = start() if args.blocking else _open(start, recording)
    except _Interrupted as interrupted:  # Ctrl+C before a stream's first event
        run.status = "stopped"
        try:
            return _interrupted(dify, args, interrupted, run)
        finally:
            run.save()
    except RunInterrupted as interrupt:  # Ctrl+C in --blocking: the library has stopped the run
        run.status = "stopped"
        run.save()
        if interrupt.stopped:
            _say(f"difytui: interrupted; stopped task {interrupt.task_id}")
        elif interrupt.task_id:
            _say(f"difytui: interrupted; could not stop task {interrupt.task_id}")
        else:
            _say("difytui: interrupted before Dify named the task; it may still finish on the server")
        return EXIT_INTERRUPTED
    except DifyError as error:  # the caller says it; the record keeps it
        run.status, run.error = "failed", str(error)
        run.save()
        raise
    if isinstance(call, dict):  # --blocking: the folded result
        run.events = blocking_events(call)
        run.save()
        recording.seen(call)
        if isinstance(call, Folded) and call.reconnects:  # as a stream says it (_note_reconnect)
            run_id = call.get("workflow_run_id") or "the run"
            _say(f"difytui: the connection dropped; reconnected to {run_id} ({call.reconnects}×)")
        if args.text:
            TextOutput().result(call)
        else:
            emit(call, indent=2)
        _warn_new_conversation(args.conversation, call.get("conversation_id"))
        if _paused(call):
            return _report_pause(dify, args.app, [call], call)
        return _report_result(call, args)
    assert isinstance(call, _Opened)  # --blocking gives a dict, a stream is opened by _open
    try:
        return _stream(dify, args, call, run)
    finally:
        run.save()


#: A run's request: Dify's blocking answer, or its open stream.
_Start = Callable[[], "dict[str, Any] | EventStream"]


@dataclass
class _Opened:
    """A stream and its first event (None: the body ended), or the error reading that event raised."""

    events: Watched
    first: dict[str, Any] | None = None
    error: DifyError | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        if self.first is not None:
            yield self.first
            yield from self.events


class _Interrupted(Exception):
    """Ctrl+C before a stream's first event; ``opened``: the start if it came in TASK_ID_WAIT
    (``waited``: False when a second Ctrl+C ended that wait)."""

    def __init__(self, opened: _Opened | None, waited: bool) -> None:
        self.opened = opened
        self.waited = waited
        super().__init__()


def _open(start: _Start, recording: Recording) -> _Opened | dict[str, Any]:
    """Start a streamed run and read its first event on a thread of its own (:mod:`difytui.opening`):
    only that event names the task, and Ctrl+C in the main thread's read would close the connection,
    leaving a run nobody can stop. Interrupted before it, the start is still waited for a while
    (TASK_ID_WAIT; a second Ctrl+C ends the wait): raises _Interrupted with what came."""
    from difytui.opening import Opening
    from difytui.streams import TASK_ID_WAIT

    def opened() -> _Opened | dict[str, Any]:
        call = start()
        if isinstance(call, dict):
            return call
        events = recording.watch(call)
        try:
            return _Opened(events, next(events, None))
        except DifyError as error:  # read on: _stream says it, as it would any later one
            return _Opened(events, error=error)

    opening: Opening[_Opened | dict[str, Any]] = Opening(opened, _close_opened)
    try:
        opening.begin()
        return opening.result()
    except KeyboardInterrupt:
        try:
            late = opening.late(TASK_ID_WAIT)
        except KeyboardInterrupt:  # a second Ctrl+C: no more waiting
            raise _Interrupted(None, waited=False) from None
        raise _Interrupted(late if isinstance(late, _Opened) else None, waited=True) from None


def _close_opened(opened: _Opened | dict[str, Any]) -> None:
    if isinstance(opened, _Opened):
        opened.events.close()


def _interrupted(dify: Dify, args: argparse.Namespace, interrupted: _Interrupted, run: RunRecording) -> int:
    """Ctrl+C before a stream's first event: stop the run if that event came to name its task."""
    opened = interrupted.opened
    if opened is None:
        from difytui.streams import TASK_ID_WAIT

        waited = f" (waited {TASK_ID_WAIT:g} s for it)" if interrupted.waited else ""
        _say(f"difytui: interrupted before Dify named the task{waited}; it may still finish on the server")
        return EXIT_INTERRUPTED
    run.events += [opened.first] if opened.first is not None else []
    opened.events.close()
    return _stopped(dify, args, opened.events.task_id, _conversation_of(args, opened.first))


def _stopped(dify: Dify, args: argparse.Namespace, task_id: str | None, conversation: str | None) -> int:
    """After Ctrl+C: stop the run on the server (when it has a task id) and say so."""
    if task_id:
        _say(f"difytui: interrupted; stopping task {task_id}")
    else:
        _say("difytui: interrupted before Dify named the task; it may still finish on the server")
    _stop(dify, args.app, task_id)
    if conversation:
        _say(f"difytui: continue with --conversation {conversation}")
    return EXIT_INTERRUPTED


def _conversation_of(args: argparse.Namespace, event: dict[str, Any] | None) -> str | None:
    got = event.get("conversation_id") if event is not None else None
    return got if isinstance(got, str) and got else args.conversation


def _stream(dify: Dify, args: argparse.Namespace, opened: _Opened, run: RunRecording) -> int:
    from difytui._http import task_id_of

    events = opened.events
    task_id = None
    warned = False
    last: dict[str, Any] = {}
    asked: list[dict[str, Any]] = []  # human_input_required events: the forms a pause waits on
    finished: dict[str, Any] | None = None  # a chatflow's comes before message_end
    conversation: str | None = args.conversation
    text = TextOutput() if args.text else None
    reconnects = 0
    try:
        for event in opened:
            run.events.append(event)
            # The task id first: a Ctrl+C during the print below must still be able to stop the run.
            task_id = task_id or task_id_of(event)
            if events.reconnects != reconnects:  # the library re-attached a dropped stream
                reconnects = events.reconnects
                _note_reconnect(text, event, reconnects)
            conversation = event.get("conversation_id") or conversation
            last = event
            if event.get("event") == "workflow_finished":
                finished = event
                if events.reconciled_answer is not None:
                    _note_lost_text(text, events.reconciled_answer)
            elif event.get("event") == "human_input_required":
                asked.append(event)
            if text is not None:
                text.event(event)
            else:
                emit(event)
            if not warned:
                warned = _warn_new_conversation(args.conversation, event.get("conversation_id"))
        if text is not None:
            text.end_line()
    except KeyboardInterrupt:
        run.status = "stopped"
        events.close()
        if text is not None:
            text.end_line()  # the partial answer stays; the notes start on their own line
        # the stream's own record too: Ctrl+C may land between an event and the line above
        return _stopped(dify, args, task_id or events.task_id, conversation)
    except DifyError as error:
        # A read timeout, a cut, a bad event…: nobody will read the rest, so the run must not go on.
        run.status, run.error = "failed", str(error)
        events.close()
        if text is not None:
            text.end_line()
        _say(f"difytui: {error}")
        if task_id and not error.stopped_task:
            _say(f"difytui: stopping task {task_id} on the server")
            _stop(dify, args.app, task_id)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`| head -1`): nobody wants the rest, so stop the run quietly.
        run.status = "stopped"
        events.close()
        _stop(dify, args.app, task_id, quiet=True)
        silence_stdout()
        return EXIT_OK
    if last.get("event") == "workflow_paused":
        return _report_pause(dify, args.app, asked, last)
    if finished is not None and run_status(finished.get("data")) == UNKNOWN_STATUS:
        _say("difytui: the run's end could not be read: workflow_finished came without a status")
        return EXIT_ERROR
    return _report_result(last, args)


def _oversized(
    fields: list[Field], inputs: dict[str, Any], parameters: dict[str, Any], files: list[str]
) -> list[str]:
    """A message for each local file over the app's upload size limit (``system_parameters``)."""
    from difytui.form_files import SizeLimits, check_sizes, size_problem

    limits = SizeLimits.of(parameters)
    found = [problem for f in fields if (problem := check_sizes(f, inputs.get(f.variable), limits))]
    for path in files:
        problem = None if "://" in path else size_problem(Path(path).expanduser(), limits)
        if problem:
            found.append(f"--file {problem}")
    return found


def _note_reconnect(text: TextOutput | None, event: dict[str, Any], count: int) -> None:
    if text is not None:
        text.end_line()  # the note on its own line; the answer goes on after it
    run = event.get("workflow_run_id") or "the run"
    _say(f"difytui: the connection dropped; reconnected to {run} ({count}×)")


def _note_lost_text(text: TextOutput | None, answer: str) -> None:
    """A re-attached chatflow missed text streamed while detached: the whole answer is in its outputs."""
    if text is None:
        _say("difytui: answer text streamed while reconnecting was lost; outputs.answer has all of it")
        return
    text.end_line()
    _say("difytui: answer text streamed while reconnecting was lost; the whole answer:")
    text.result({"answer": answer})


def _paused(result: dict[str, Any]) -> bool:
    """A blocking answer that returned at a pause (chat: its event; workflow: its status)."""
    data = result.get("data")
    return result.get("event") == "workflow_paused" or (
        isinstance(data, dict) and data.get("status") == "paused"
    )


def _report_pause(dify: Dify, app_id: str, asked: list[dict[str, Any]], pause: dict[str, Any]) -> int:
    """Show and record the forms the run waits on; exit with the pause's own code (cli_resume)."""
    from difytui import cli_resume
    from difytui.human_input import forms_in

    forms = [form for event in asked for form in forms_in(event)] or forms_in(pause)
    return cli_resume.report_pause(dify, app_id, forms, pause)


def _stop(dify: Dify, app_id: str, task_id: str | None, *, quiet: bool = False) -> None:
    if not task_id:
        return
    try:
        dify.app.stop(app_id, task_id)
    except DifyError as error:
        if not quiet:
            _say(f"difytui: could not stop the task: {error}")


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
