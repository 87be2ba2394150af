"""The first frame's stylesheets, parsed once and kept on disk.

Textual parses every stylesheet the first frame uses (shell.tcss, and the DEFAULT_CSS of the app,
the screen and each widget class on it) at every start: ~8 ms, the largest single step of the
console's start-up after the imports. What its parser returns is data (selectors, declarations
with the theme's variables filled in), so it is pickled once they are all parsed (the app's
mount), and the next start reads it back in ~1 ms.

Each entry is keyed as Textual keys its own in-memory cache (the CSS text, where it was read from,
its flags), and the file holds the variables it was parsed with and what identifies the Python and
the Textual parser that made it: a theme of another colour, another Textual, or a missing, damaged
or foreign file only means parsing as usual. The file lives in the user's data directory, beside
the state database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
from pathlib import Path

from textual.css import model as css_model
from textual.css import parse as css_parse
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation

log = logging.getLogger(__name__)

#: Bumped when what is stored changes shape.
FORMAT = 1
#: Its file, in the data directory.
PARSED_STYLES = "first-frame-styles.pickle"

#: Textual's key for one parse: the CSS, where it was read from, default rules?, tie breaker, scope.
ParseKey = tuple[str, CSSLocation, bool, int, str]


def _stamp() -> tuple[object, ...] | None:
    """What the stored parses depend on besides their keys: this format, Python, and Textual's
    parser (its files as installed: ``textual.__version__`` reads package metadata, ~20 ms).
    None where those files cannot be told apart (no file to look at): nothing is kept then."""
    files = []
    for module in (css_model, css_parse):
        try:
            stat = os.stat(module.__file__ or "")
        except OSError:
            return None
        files.append((module.__file__, stat.st_size, stat.st_mtime_ns))
    return FORMAT, sys.version, tuple(files)


class ParsedStyles:
    """Serves one stylesheet's parses from ``path`` until :meth:`save`, which writes the parses
    served so far (only when any was made afresh) and leaves the stylesheet as Textual made it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved_variables, self._saved = _read(path)
        # The first frame's parses, all with the same variables (the theme's, when they were made).
        self._variables: dict[str, str] | None = None
        self._used: dict[ParseKey, list[RuleSet]] = {}
        self._parsed_afresh = False
        self._stylesheet: Stylesheet | None = None

    def install(self, stylesheet: Stylesheet) -> None:
        parse = stylesheet._parse_rules  # Textual's, with its own in-memory cache

        def parse_rules(
            css: str,
            read_from: CSSLocation,
            is_default_rules: bool = False,
            tie_breaker: int = 0,
            scope: str = "",
        ) -> list[RuleSet]:
            key = (css, read_from, is_default_rules, tie_breaker, scope)
            variables = stylesheet._variables
            rules = self._saved.get(key) if variables == self._saved_variables else None
            if rules is None:
                rules = parse(css, read_from, is_default_rules, tie_breaker, scope)
                self._parsed_afresh = True
            if variables != self._variables:  # the first parse, or the theme changed since
                self._variables, self._used = dict(variables), {}
            if not any(rule.errors for rule in rules):
                self._used[key] = rules
            return rules

        stylesheet._parse_rules = parse_rules  # type: ignore[method-assign]
        self._stylesheet = stylesheet

    def save(self) -> None:
        """Once the first frame's stylesheets are parsed: keep them for the next start, and stop
        serving (later parses are Textual's alone)."""
        if self._stylesheet is not None:
            with contextlib.suppress(AttributeError):
                del self._stylesheet._parse_rules  # the class's method again
            self._stylesheet = None
        used, self._used = self._used, {}
        stamp = _stamp()
        if not self._parsed_afresh or not used or stamp is None:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            data = pickle.dumps((stamp, self._variables, used), protocol=pickle.HIGHEST_PROTOCOL)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, self.path)  # whole or not at all, also with two consoles
        except Exception as error:  # a full disk, a read-only home, a rule that cannot be pickled
            log.debug("parsed styles not kept: %s", error)
            with contextlib.suppress(OSError):
                temporary.unlink()


def _read(path: Path) -> tuple[dict[str, str] | None, dict[ParseKey, list[RuleSet]]]:
    """The variables and the parses stored at ``path``; nothing when it is missing or not ours."""
    try:
        with open(path, "rb") as file:
            stamp, variables, parses = pickle.load(file)
    except FileNotFoundError:
        return None, {}
    except Exception as error:  # damaged, or written by another version: parse as usual
        log.debug("parsed styles not read: %s", error)
        return None, {}
    if stamp is None or stamp != _stamp() or not isinstance(variables, dict) or not isinstance(parses, dict):
        return None, {}
    return variables, parses
