"""What ``difytui apps`` and ``invoke`` write on stdout: strict JSON lines, or (``--text``) plain text."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from difytui.cliutil import say
from difytui.errors import DifyProtocolError
from difytui.text import printable

#: json.dumps escapes C0 controls but, with ensure_ascii=False, not DEL and the C1 range (which some
#: terminals obey like ESC), nor lone surrogates (legal in JSON text, but no encoding can write them):
#: escape those too, so server text cannot drive the terminal and every line can be written.
_UNSAFE = re.compile(r"[\x7f-\x9f\ud800-\udfff]")
_warned_non_finite = False


def new_command() -> None:
    """One NaN warning per command, also when main() runs twice in a process."""
    global _warned_non_finite
    _warned_non_finite = False


def emit(obj: object, *, indent: int | None = None) -> None:
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
                say("difytui: warning: the server sent NaN or Infinity, not JSON values: printed as null")
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


def silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


class TextOutput:
    """``invoke --text``: only the answer (chat, completion) or the outputs (workflow), as it streams.

    Server text is data: control characters and escape sequences are shown, never obeyed.
    """

    def __init__(self) -> None:
        self._streamed = False  # answer text arrived piece by piece: the final outputs repeat it
        self._at_line_start = True

    def event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        if kind in ("message", "agent_message"):
            self._piece(event.get("answer"))
        elif kind == "text_chunk":  # a workflow's streamed output
            data = event.get("data")
            self._piece(data.get("text") if isinstance(data, dict) else None)
        elif kind == "message_replace":  # moderation replaced the answer: show the replacement
            self.end_line()
            self._write(str(event.get("answer") or ""))
        elif kind == "workflow_finished" and not self._streamed:
            data = event.get("data")
            self._outputs(data.get("outputs") if isinstance(data, dict) else None)

    def result(self, result: Mapping[str, Any]) -> None:
        """A --blocking result: its answer, else its outputs."""
        if isinstance(result.get("answer"), str):
            self._write(result["answer"])
        else:
            data = result.get("data")
            self._outputs(data.get("outputs") if isinstance(data, dict) else None)
        self.end_line()

    def end_line(self) -> None:
        """End the text with a newline (before a message on stderr, and at the end)."""
        if not self._at_line_start:
            self._write("\n")

    def _piece(self, text: object) -> None:
        if isinstance(text, str) and text:
            self._streamed = True
            self._write(text)

    def _outputs(self, outputs: object) -> None:
        if not isinstance(outputs, dict) or not outputs:
            return
        if len(outputs) == 1 and isinstance(next(iter(outputs.values())), str):
            self._write(next(iter(outputs.values())))  # one text output: just the text
            return
        for key, value in outputs.items():
            shown = value if isinstance(value, str) else json.dumps(_finite(value), ensure_ascii=False)
            self.end_line()
            self._write(f"{key}: {shown}")

    def _write(self, text: str) -> None:
        if not text:
            return
        safe = printable(text)
        try:
            sys.stdout.write(safe)
        except UnicodeEncodeError:  # stdout is not UTF-8: what it cannot show becomes "?"
            encoding = sys.stdout.encoding or "ascii"
            sys.stdout.write(safe.encode(encoding, "replace").decode(encoding))
        sys.stdout.flush()
        self._at_line_start = safe.endswith("\n")
