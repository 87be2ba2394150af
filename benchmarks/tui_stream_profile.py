"""Where the console's streaming work goes, counted (not timed), beside the figures of tui_stream.

Wall time on a shared 2-core machine is noise; counts are not. This runs the same pipeline as
``benchmarks/tui_stream.py`` and counts, per flush of the answer and for the end of each answer:

- ``styled``: widgets whose styles are (re)computed (``Stylesheet.apply`` calls);
- ``arranged``: widgets arranged (``textual._arrange.arrange`` calls: cache misses);
- ``reflows``: full layouts of the screen (``Compositor.reflow``) and ``placed``: the widgets they placed;
- ``widgets``: widgets built (a stream once built Markdown block widgets per flush; now one per piece);
- ``cpu_ms``: CPU time of the loop's thread (``time.thread_time``), and the longest single callback;
- the tracked objects a full (gen2) collection scans after the answer, and the collector's CPU time.

A count that grows with the answer's length (late flushes vs early ones) or with the number of
messages (the end of message 20 vs message 1) is a cost that will blow the 50 ms block goal.

    python benchmarks/tui_stream_profile.py            # 4k and 20k burst, a 20-message chat
    python benchmarks/tui_stream_profile.py --quick    # 2k, 5k, 6 messages
    python benchmarks/tui_stream_profile.py --top 8    # also the longest callbacks, named
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import itertools

import textual._compositor as compositor_module
import textual.widget as widget_module
from textual.css.stylesheet import Stylesheet
from textual.widget import Widget
from tui_stream import answer_tokens, console_run

from difytui.tui.widgets.answer_view import AnswerView

KEYS = ("styled", "arranged", "reflows", "placed", "widgets")


@dataclass
class Counts:
    counts: Counter[str] = field(default_factory=Counter)
    #: (CPU seconds, callback) of the longest loop callbacks
    callbacks: list[tuple[float, str]] = field(default_factory=list)
    gc_start: float = 0.0
    gc_ms: dict[int, float] = field(default_factory=dict)  # CPU ms in collections, by generation
    gc_max: dict[int, float] = field(default_factory=dict)  # the longest collection, by generation

    def snapshot(self) -> dict[str, float]:
        return {**{k: self.counts[k] for k in KEYS}, "cpu": time.thread_time()}


COUNTS = Counts()


PROFILE_CALLBACKS = False


def _hot(profiler: cProfile.Profile) -> str:
    """The functions a long callback spent its time in (cumulative, difytui and Textual first)."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"difytui|textual|markdown_it|rich", 28)
    lines = [line for line in out.getvalue().splitlines() if "/" in line and "{" not in line]
    return "\n" + "\n".join("      " + line.strip()[:150] for line in lines)


def _name(callback: Any) -> str:
    """Which task (and which widget's message loop) a loop callback stepped."""
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        task = next((r for r in gc.get_referents(callback) if isinstance(r, asyncio.Task)), None)
    if task is None:
        return repr(callback)[:110]
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    owner = frame.f_locals.get("self") if frame is not None else None
    return f"{getattr(coro, '__qualname__', coro)} of {type(owner).__name__ if owner is not None else '-'}"


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        COUNTS.gc_start = time.thread_time()
        return
    spent = time.thread_time() - COUNTS.gc_start
    generation = info["generation"]
    COUNTS.counts[f"gc{generation}"] += 1
    COUNTS.gc_ms[generation] = COUNTS.gc_ms.get(generation, 0.0) + spent * 1000
    COUNTS.gc_max[generation] = max(COUNTS.gc_max.get(generation, 0.0), spent * 1000)


def instrument() -> None:
    gc.callbacks.append(_gc_callback)
    """Wrap the Textual and asyncio functions whose calls are counted."""
    apply = Stylesheet.apply

    def counted_apply(self: Stylesheet, node: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS.counts["styled"] += 1
        return apply(self, node, *args, **kwargs)

    Stylesheet.apply = counted_apply  # type: ignore[method-assign]

    arrange = widget_module.arrange

    def counted_arrange(*args: Any, **kwargs: Any) -> Any:
        COUNTS.counts["arranged"] += 1
        return arrange(*args, **kwargs)

    widget_module.arrange = counted_arrange  # type: ignore[assignment]

    reflow = compositor_module.Compositor.reflow

    def counted_reflow(self: Any, parent: Any, size: Any) -> Any:
        result = reflow(self, parent, size)
        COUNTS.counts["reflows"] += 1
        COUNTS.counts["placed"] += len(self._full_map or ())
        return result

    compositor_module.Compositor.reflow = counted_reflow  # type: ignore[method-assign]

    init = Widget.__init__

    def counted_init(self: Widget, *args: Any, **kwargs: Any) -> None:
        COUNTS.counts["widgets"] += 1
        init(self, *args, **kwargs)

    Widget.__init__ = counted_init  # type: ignore[method-assign]

    run = asyncio.events.Handle._run

    def timed_run(self: asyncio.events.Handle) -> None:
        profiler = cProfile.Profile() if PROFILE_CALLBACKS else None
        start = time.thread_time()
        if profiler is not None:
            profiler.enable()
        run(self)
        if profiler is not None:
            profiler.disable()
        spent = time.thread_time() - start
        if spent > 0.005:
            COUNTS.callbacks.append((spent, _hot(profiler) if profiler else _name(self._callback)))

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]


@dataclass
class Flushes:
    """Counter snapshots at each flush of the answer being measured."""

    marks: list[dict[str, float]] = field(default_factory=list)

    def install(self) -> None:
        drain = AnswerView._drain

        async def marked(view: AnswerView) -> None:
            self.marks.append(COUNTS.snapshot())
            await drain(view)

        AnswerView._drain = marked  # type: ignore[method-assign]


FLUSHES = Flushes()


def deltas(marks: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: b[k] - a[k] for k in a} for a, b in itertools.pairwise(marks)]


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}


def fmt(row: dict[str, float]) -> str:
    parts = [f"{k} {row[k]:.0f}" for k in KEYS if k in row]
    if "cpu" in row:
        parts.append(f"cpu {row['cpu'] * 1000:.1f} ms")
    return ", ".join(parts)


def profile(name: str, answers: list[list[str]], measure: set[int], top: int) -> None:
    flushes = FLUSHES
    flushes.marks.clear()
    ends: dict[int, dict[str, float]] = {}
    longest: dict[int, float] = {}
    scanned: dict[int, int] = {}
    per_message: list[list[dict[str, float]]] = []
    write = AnswerView.write
    finish = AnswerView.finish
    last: list[dict[str, float]] = [COUNTS.snapshot()]

    async def stamped(view: AnswerView, fragment: str) -> None:
        await write(view, fragment)
        last[0] = COUNTS.snapshot()

    async def finished(view: AnswerView, *args: Any, **kwargs: Any) -> None:
        per_message.append(deltas(flushes.marks))
        flushes.marks.clear()
        COUNTS.callbacks.clear()
        await finish(view, *args, **kwargs)

    AnswerView.write = stamped  # type: ignore[method-assign]
    AnswerView.finish = finished  # type: ignore[method-assign]
    original_run = console_run.__globals__["Probe"].run

    async def probe_run(probe: Any, interval: float = 0.005) -> None:
        await original_run(probe, interval)
        number = len(per_message)
        end = COUNTS.snapshot()
        ends[number] = {k: end[k] - last[0][k] for k in end}
        longest[number] = max((c for c, _ in COUNTS.callbacks), default=0.0)
        if number in measure:
            scanned[number] = len(gc.get_objects())  # what a full pass would scan now (not frozen)
        if number in measure and top:
            print(f"  message {number}: longest callbacks after the last token")
            for spent, what in sorted(COUNTS.callbacks, reverse=True)[:top]:
                print(f"    {spent * 1000:7.1f} ms  {what}")

    console_run.__globals__["Probe"].run = probe_run
    COUNTS.gc_ms.clear()
    COUNTS.gc_max.clear()
    try:
        asyncio.run(console_run(answers, None, measure))
    finally:
        AnswerView.write, AnswerView.finish = write, finish  # type: ignore[method-assign]
        console_run.__globals__["Probe"].run = original_run
    for number in sorted(measure):
        rows = per_message[number - 1]
        quarter = max(1, len(rows) // 4)
        print(f"{name}, message {number}: {len(rows)} flushes")
        print(f"  first quarter, per flush: {fmt(mean(rows[:quarter]))}")
        print(f"  last quarter, per flush:  {fmt(mean(rows[-quarter:]))}")
        worst = max(rows, key=lambda r: r["cpu"]) if rows else {}
        print(f"  costliest flush:          {fmt(worst)}")
        end = f"{fmt(ends[number])}, longest callback {longest[number] * 1000:.1f} ms"
        print(f"  end of answer:            {end}")
        print(f"  tracked objects a full pass scans after it: {scanned.get(number, 0)}")
    gcs = ", ".join(
        f"gen{g}: {COUNTS.gc_ms[g]:.0f} ms in all, longest {COUNTS.gc_max[g]:.1f} ms"
        for g in sorted(COUNTS.gc_ms)
    )
    print(f"  collector over the whole run: {gcs}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--big", action="store_true", help="also 50k tokens")
    parser.add_argument("--top", type=int, default=0, help="name the N longest callbacks at each end")
    parser.add_argument("--profile", action="store_true", help="with --top: where those callbacks spent it")
    parser.add_argument("--only", choices=("burst", "chat"), help="one kind of case")
    args = parser.parse_args()
    global PROFILE_CALLBACKS
    PROFILE_CALLBACKS = args.profile
    instrument()
    FLUSHES.install()
    sizes = [2000, 5000] if args.quick else [4000, 20000] + ([50000] if args.big else [])
    for n in sizes if args.only != "chat" else []:
        profile(f"burst {n} tokens", [answer_tokens(n)], {1}, args.top)
    messages = 6 if args.quick else 20
    if args.only == "burst":
        return 0
    profile(
        f"chat of {messages} x 1000 tokens",
        [answer_tokens(1000) for _ in range(messages)],
        {1, messages},
        args.top,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
