"""How the cyclic garbage collector's full passes run while the console is up.

A full (generation 2) pass scans every tracked object not frozen. The console's long-lived objects
(modules, classes, Textual's widgets and styles) are frozen at the first frame, and what the app
built after it (app list, the client) once more when the first stream starts, so a full pass scans
only what came after: the chat's own objects. The policy owns every freeze, so ``close`` leaves
nothing frozen for the next console (switching workspace) or the caller.

Full passes keep CPython's own cadence while anything streams. A pass's cost is mostly freeing
the widgets a stream drops (about 2 µs an object), so rarer passes are longer ones: holding them
off for the whole stream kept every dropped piece until the end (388 MB peak RSS for 20 answers
of 500 KB), and one pass per 50 gen1 passes (instead of 10) made the longest pass 270–280 ms at
4k tokens paced and 450 ms at 20k in a burst, against 100–115 ms and 175 ms at CPython's cadence
(benchmarks/tui_stream_profile.py on the same machine).

What a full pass scans must not grow with the answers either: :mod:`.textual_fixes` lets go of
the style caches of dropped widgets, and makes a strip's caches only when they are used.
"""

from __future__ import annotations

import gc

from difytui.tui import textual_fixes


class GcPolicy:
    def __init__(self) -> None:
        textual_fixes.install()
        self._frozen = False  # anything frozen by this policy (close unfreezes)
        self._frozen_for_streams = False

    def first_frame(self) -> None:
        """The first frame is drawn: what start-up made lives as long as the app; collect again."""
        self._frozen = True
        gc.freeze()
        gc.enable()  # difytui.tui.run keeps it off until this frame

    def stream_started(self) -> None:
        if not self._frozen_for_streams:
            # Everything alive now is the app itself: full passes need not scan it again.
            self._frozen = self._frozen_for_streams = True
            gc.freeze()
            # Cheap (nothing young is left to scan), and it resets CPython's count of long-lived
            # objects: otherwise the first full pass waits for a quarter of the frozen ones.
            gc.collect()

    def close(self) -> None:
        """The app ends: nothing frozen is left for the next console (switching workspace) or the
        caller."""
        if self._frozen:
            self._frozen = self._frozen_for_streams = False
            gc.unfreeze()
