"""Make server text safe to print: it is data, never terminal control."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls (which some terminals treat like ESC sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\x1b":
        return "␛"
    if char == "\r":
        return ""
    return f"\\x{ord(char):02x}"


def printable(text: object) -> str:
    """``text`` with escape sequences and control characters shown, not obeyed (ESC becomes ``␛``)."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return _CONTROL.sub(_visible, text)
