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

from difytui.text import printable

_NEWLINES = re.compile(r"\s*\n\s*")

#: ``text`` as a string with escape sequences and control characters made visible and inert
#: (shared with the CLI: ESC shows as ␛, other controls as \xNN).
clean = printable


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
