"""Server text is data: show it literally, never as Rich markup or terminal control sequences.

Everything Dify sends (answers, app names, node titles, errors) passes through :func:`clean`
before it reaches a widget, and is wrapped in ``rich.text.Text`` (no markup parsing) or fed to
the Markdown widget (which parses Markdown, not Rich markup).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.text import Text

# C0 controls except tab and newline, DEL, and C1 controls (some terminals obey C1 like ESC sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\s*\n\s*")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\x1b":
        return "␛"  # ESC shown as a symbol, so `\x1b[31m` reads as "␛[31m" and does nothing
    if char == "\r":
        return ""
    return f"\\x{ord(char):02x}"


def clean(text: Any) -> str:
    """``text`` as a string with escape sequences and control characters made visible and inert."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return _CONTROL.sub(_visible, text)


def one_line(text: Any) -> str:
    """:func:`clean` for names and titles: newlines folded into spaces."""
    return _NEWLINES.sub(" ", clean(text)).strip()


def literal(text: Any, style: str = "") -> Text:
    """A Rich ``Text`` that shows ``text`` exactly (``[bold]`` stays ``[bold]``)."""
    return Text(clean(text), style=style)


def json_text(data: Any) -> Text:
    """``data`` as indented, highlighted JSON; strings inside are escaped by ``json.dumps``."""
    try:
        dumped = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        dumped = repr(data)
    # json.dumps escapes C0 controls but not C1 ones (with ensure_ascii=False): clean() covers those.
    return JSONHighlighter()(Text(clean(dumped)))


def json_line(data: Any) -> Text:
    """One compact highlighted JSON line (for the raw event log)."""
    try:
        dumped = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        dumped = repr(data)
    return JSONHighlighter()(Text(clean(dumped)))
