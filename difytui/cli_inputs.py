"""What ``difytui invoke`` sends: inputs layered from the form, a follow-up's record and the command
line, and the warnings worth giving before a run starts.

Dify checks an app's inputs on every chat turn, so a follow-up (``--conversation``) needs them
again: the CLI records the inputs of each conversation it takes part in, and a follow-up reuses them
(the console's record of its current conversation counts too).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from difytui.forms import (
    Field,
    coerce,
    defaults,
    file_upload_enabled,
    form_variables,
    restore,
    unknown_inputs,
)
from difytui.store import Store, workspace_key

if TYPE_CHECKING:
    from difytui.client import EventStream
    from difytui.config import Workspace


@dataclass
class Given:
    """The inputs of one invocation, and where they came from."""

    values: dict[str, Any]
    #: the names the user gave (--inputs-json keys, then -i keys), in order
    named: list[str] = field(default_factory=list)
    #: the names taken from the conversation's recorded inputs (not overridden by the user)
    reused: list[str] = field(default_factory=list)


def given_inputs(
    fields: list[Field],
    inputs_json: str | None,
    pairs: list[str],
    recorded: Mapping[str, Any] | None = None,
) -> Given:
    """The form's defaults, then the recorded inputs, then ``--inputs-json``, then each ``-i KEY=VALUE``.

    A name the user gives replaces its recorded value even when the value is blank (blank means
    "use the form's default", as it does without a record). Raises ``ValueError``/``FormError``.
    """
    given_json: dict[str, Any] = {}
    if inputs_json:
        try:
            loaded = json.loads(inputs_json)
        except ValueError as error:
            raise ValueError(f"--inputs-json is not valid JSON: {error}") from None
        if not isinstance(loaded, dict):
            raise ValueError("--inputs-json must be a JSON object")
        given_json = loaded
    raw: dict[str, str] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--input takes KEY=VALUE, not {item!r}")
        raw[key] = value
    named = list(dict.fromkeys([*given_json, *raw]))
    reusable = {k: v for k, v in restore(fields, recorded or {}).items() if k not in named}
    values: dict[str, Any] = {**defaults(fields), **reusable, **given_json, **coerce(fields, raw)}
    return Given(values, named, list(reusable))


def unknown_inputs_warning(app: str, parameters: Mapping[str, Any], named: list[str]) -> str | None:
    """A warning for names that are not on the app's form (Dify drops them without a word).

    They are still sent: Dify ignores them, and a control this version cannot parse (a newer
    Dify's) still has its variable listed in the form, so nothing the app reads is lost."""
    unknown = unknown_inputs(parameters, named)
    if not unknown:
        return None
    known = form_variables(parameters)
    quoted = ", ".join(repr(name) for name in unknown)
    noun = "input" if len(unknown) == 1 else "inputs"
    close = difflib.get_close_matches(unknown[0], known, n=1) if len(unknown) == 1 else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = f"its inputs are {', '.join(known)}" if known else "it has no inputs"
    return f"warning: {app} has no {noun} {quoted}{hint}; {listing}. Dify ignores inputs not on the form."


def dropped_files_warning(app: str, parameters: Mapping[str, Any], mode: str, files: list[str]) -> str | None:
    """A warning when the app's file upload is off: Dify would drop the files, so they are not sent."""
    if not files or file_upload_enabled(parameters, mode):
        return None
    names = ", ".join(files)
    return (
        f"warning: {app} has file upload switched off, so Dify would drop the attached files: "
        f"not sending {names}"
    )


def missing_inputs_hint(conversation: str) -> str:
    return (
        f"follow-ups need the inputs again (Dify checks them on every turn), and none are recorded here "
        f"for conversation {conversation}: give them with -i KEY=VALUE or --inputs-json"
    )


class ConversationInputs:
    """The state store's inputs per conversation, for one chat app of the workspace."""

    def __init__(self, workspace: Workspace, app_id: str) -> None:
        self.ws = workspace_key(workspace)
        self.app_id = app_id

    def recorded(self, conversation: str) -> dict[str, Any] | None:
        with Store() as store:
            return store.conversation_inputs(self.ws, self.app_id, conversation)

    def record(self, conversation: str, inputs: Mapping[str, Any]) -> None:
        with Store() as store:
            store.set_conversation_inputs(self.ws, self.app_id, conversation, dict(inputs))


class Recording:
    """Records a run's inputs under its conversation once an event (or the blocking result) names it.

    Streaming records at the first event that names the conversation, so an interrupted run counts;
    a new conversation Dify starts for an unknown id is recorded under its new id.
    """

    def __init__(self, memory: ConversationInputs | None, inputs: Mapping[str, Any]) -> None:
        self._memory = memory
        self._inputs = inputs
        self._recorded = False

    def seen(self, event: Mapping[str, Any]) -> None:
        conversation = event.get("conversation_id")
        if self._memory is None or self._recorded or not isinstance(conversation, str) or not conversation:
            return
        self._recorded = True
        self._memory.record(conversation, self._inputs)

    def watch(self, events: EventStream) -> Watched:
        return Watched(events, self)


class Watched:
    """The events of a stream, passed through a :class:`Recording`; closes like the stream.

    An event is looked at when the next one is asked for (or at the end), so the state store's
    write (an fsync, some 25 ms) never holds back the event that named the conversation.
    """

    def __init__(self, events: EventStream, recording: Recording) -> None:
        self._events = events
        self._recording = recording
        self._last: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        self._look()
        self._last = next(self._events)
        return self._last

    def _look(self) -> None:
        if self._last is not None:
            self._recording.seen(self._last)
            self._last = None

    def close(self) -> None:
        self._events.close()
        self._look()

    def __getattr__(self, name: str) -> Any:  # the stream's other attributes (mode, response)
        return getattr(self._events, name)
