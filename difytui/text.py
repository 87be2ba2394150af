"""Text helpers: make server text safe to print (it is data, never terminal control); articles."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls (which some terminals treat like ESC sequences),
# and lone surrogates (legal in JSON as \uXXXX, but no encoding can write them: print() would raise).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\x1b":
        return "␛"
    if char == "\r":
        return ""
    if "\ud800" <= char <= "\udfff":
        return f"\\u{ord(char):04x}"
    return f"\\x{ord(char):02x}"


def printable(text: object) -> str:
    """``text`` with escape sequences and control characters shown, not obeyed (ESC becomes ``␛``)."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return _CONTROL.sub(_visible, text)


def article(word: str) -> str:
    """``word`` with "a" or "an" before it, by its first letter ("an audio", "a workflow")."""
    return f"{'an' if word[:1].lower() in 'aeiou' and word[:1] else 'a'} {word}"
