"""Keys a real terminal sends that Textual's parser reads as other keys.

xterm, tmux (``M-Enter``, ``M-2``) and most terminals send alt+<key> as ESC then the key. Textual's
XTermParser drops the alt of a key it has a name for, so ESC CR arrives as plain ``enter`` (the
prompt would send instead of adding a line), and it reads ESC 1…ESC 0 as the characters macOS
option keys type (``¡``, ``™``…), so alt+1 would type ``¡``. :class:`AltAwareParser` keeps the alt
for these keys; terminals speaking the kitty keyboard protocol already send keys it knows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from textual import events
from textual._xterm_parser import XTermParser

ESC = "\x1b"
#: The keys (after ESC) whose alt the console needs: the prompt's newline, the suggestion keys.
_ALT_KEYS = {"\r": "alt+enter", **{digit: f"alt+{digit}" for digit in "1234567890"}}


class AltAwareParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        # Whole (ESC CR) when both bytes came in one read; ESC already taken (alt) after a pause.
        key = sequence[1:] if len(sequence) == 2 and sequence[0] == ESC else sequence if alt else ""
        name = _ALT_KEYS.get(key)
        if name is not None:
            yield events.Key(name, None)  # no character: a field without the binding types nothing
            return
        yield from super()._sequence_to_key_events(sequence, alt)


def use_alt_aware_parser(driver_module: str) -> None:
    """Make the driver in ``driver_module`` parse input with :class:`AltAwareParser`.

    The drivers build their parser from the module's ``XTermParser`` name inside their input
    thread, with no hook to pass another one: rebinding the name is the narrowest change."""
    module = sys.modules.get(driver_module)
    if module is not None and getattr(module, "XTermParser", None) is XTermParser:
        module.XTermParser = AltAwareParser  # type: ignore[attr-defined]
