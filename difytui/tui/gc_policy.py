"""How the cyclic garbage collector's full passes run while the console is up.

A full (generation 2) pass scans every tracked object not frozen. The console's long-lived objects
(modules, classes, Textual's widgets and styles) are frozen at the first frame, and what the app
built after it (app list, the client) once more when the first stream starts, so a full pass scans
only what came after: the chat's own objects. The policy owns every freeze, so ``close`` leaves
nothing frozen for the next console (switching workspace) or the caller.
While anything streams, full passes stay on at a bounded cadence (``STREAM_GEN2``: one per that
many gen1 passes, and CPython runs one only when the objects that survived since the last make up
a quarter of the scanned ones). Holding them off for the whole stream instead kept every dropped
piece's cycles until the stream ended, and a chat streamed back to back never let them go: 388 MB
peak RSS for 20 answers of 500 KB, and a 100–420 ms full pass after each answer.
What a full pass scans must not grow with the answers either: :mod:`.textual_fixes` lets go of
the style caches of dropped widgets, which Textual keeps in an ``lru_cache``.
"""

from __future__ import annotations

import gc
from typing import Protocol

from difytui.tui import textual_fixes


class _Loop(Protocol):
    """What the policy needs of the app: Textual's ``call_after_refresh``."""

    def call_after_refresh(self, callback: object, *args: object) -> bool: ...


class GcPolicy:
    #: gen2 threshold while streaming (CPython's default is 10): a full pass per that many gen1 ones
    STREAM_GEN2 = 50

    def __init__(self, loop: _Loop) -> None:
        textual_fixes.install()
        self._loop = loop
        self._streams = 0
        self._thresholds: tuple[int, int, int] | None = None
        self._frozen = False  # anything frozen by this policy (close unfreezes)
        self._frozen_for_streams = False

    def first_frame(self) -> None:
        """The first frame is drawn: what start-up made lives as long as the app; collect again."""
        self._frozen = True
        gc.freeze()
        gc.enable()  # difytui.tui.run keeps it off until this frame

    def stream_started(self) -> None:
        self._streams += 1
        if not self._frozen_for_streams:
            # Everything alive now is the app itself: full passes need not scan it again.
            self._frozen = self._frozen_for_streams = True
            gc.freeze()
            # Cheap (nothing young is left to scan), and it resets CPython's count of long-lived
            # objects: otherwise the first full pass waits for a quarter of the frozen ones.
            gc.collect()
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            gen0, gen1, _gen2 = self._thresholds
            gc.set_threshold(gen0, gen1, self.STREAM_GEN2)

    def stream_ended(self) -> None:
        """Called before the answer's final render: the usual cadence once that render is drawn."""
        self._streams = max(0, self._streams - 1)
        if self._streams == 0:
            self._loop.call_after_refresh(self._settle)

    def _settle(self) -> None:
        if self._streams or self._thresholds is None:
            return
        gc.set_threshold(*self._thresholds)
        self._thresholds = None

    def close(self) -> None:
        """The app ends (a run may be cut short): the collector as it was, nothing frozen."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        self._streams = 0
        if self._frozen:
            self._frozen = self._frozen_for_streams = False
            gc.unfreeze()
