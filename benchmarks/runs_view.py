"""The Runs view's first screen with 5,000 recorded runs, beside the same view with none.

All in one process, headless: a bare host app pushes ``RunsScreen``. The figure is the time from
the push until the first frame that shows the whole first screen: the app's ``_display`` is hooked
(Textual calls it with each frame the compositor renders; a headless driver would then drop it),
the frame is turned into the terminal's bytes as a real driver does, and it counts once those bytes
hold the newest run's text, the title and the key line. A view that drew its rows or its keys a
frame later is timed to that later frame. "settled" is the last frame of the opening (after it the
app is idle): work done after the first screen shows there. CPU is the process time the first
screen took: wall time on a loaded machine includes waiting for a core, CPU time does not.

The records are real ones (``RunRecords.add``, events compressed) in a file database; the list
reads one page (LIMIT) of summary columns and never decompresses events, so the figure should
barely depend on how many runs are kept: beside the empty view, a store of 60 runs (more than the
first page) shows what drawing the rows costs, so the 5,000 figure against it is what the number
of runs costs. Goal: under 100 ms.

    python benchmarks/runs_view.py            # 5,000 records, 15 openings of each view
    python benchmarks/runs_view.py --quick    # 500 records, 6 openings
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DIFYTUI_DATA_DIR", tempfile.mkdtemp(prefix="difytui-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import RenderableType
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from difytui.run_records import Budget, RunRecords, summarize
from difytui.store import Store
from difytui.tui.models import AppItem
from difytui.tui.screens.runs_view import PAGE, RunsScreen

WS = "bench|user"
ITEM = AppItem("report-builder", "Report Builder", "workflow")


def events(n: int) -> list[dict]:
    ids = {"task_id": f"t{n}", "workflow_run_id": f"w{n}"}
    nodes = []
    for k in range(6):
        data = {"id": f"e{n}-{k}", "node_id": f"n{k}", "title": f"Node {k}", "node_type": "code"}
        nodes.append({"event": "node_started", **ids, "data": data})
        done = {**data, "status": "succeeded", "elapsed_time": 0.1, "outputs": {"text": "lorem ipsum " * 40}}
        nodes.append({"event": "node_finished", **ids, "data": done})
    end = {"status": "succeeded" if n % 7 else "failed", "outputs": {"report": f"report {n} " * 30},
           "elapsed_time": 1.5, "total_tokens": 300 + n % 50}  # fmt: skip
    return [*nodes, {"event": "workflow_finished", **ids, "data": end}]


def fill(path: Path, count: int) -> RunRecords:
    records = RunRecords(Store(path), Budget(max_runs=count, max_bytes=500 * 1024 * 1024))
    now = time.time() - count
    for n in range(count):
        record, kept = summarize(ITEM.id, "workflow", {"topic": f"topic {n}"}, events(n), started=now + n)
        records.add(WS, record, kept)
    return records


Timing = tuple[float, float, float]  # (first screen, its CPU time, settled), seconds after the push


class Host(App[None]):
    pass


class Bare(Screen[None]):
    """The floor: a screen with one line of text, pushed and drawn the same way."""

    def compose(self) -> ComposeResult:
        yield Static("nothing")


class Frames:
    """Times the frames the app renders for one screen, from a start, until they hold ``wanted``."""

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self.screen: Screen[None] | None = None
        self.start = self.complete = self.last = self.cpu_start = self.cpu = 0.0
        self.wanted: set[str] = set()
        self.shown = asyncio.Event()
        self._display = app._display
        app._display = self.display  # type: ignore[method-assign]

    def expect(self, screen: Screen[None], wanted: set[str]) -> None:
        self.screen, self.wanted, self.shown = screen, set(wanted), asyncio.Event()
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()

    def display(self, screen: Screen[None], renderable: RenderableType | None) -> None:
        self._display(screen, renderable)
        if renderable is None or screen is not self.screen:
            return
        # what a real driver writes to the terminal (the headless one skips this)
        sent = renderable.render_segments(self.app.console)  # type: ignore[union-attr]
        self.last = time.perf_counter()
        if self.wanted:
            self.wanted = {text for text in self.wanted if text not in sent}
            if not self.wanted:
                self.complete = self.last
                self.cpu = time.process_time() - self.cpu_start
                self.shown.set()


async def first_screens(records: RunRecords | None, wanted: set[str], repeats: int) -> list[Timing]:
    """(first screen, its CPU time, settled) of ``repeats`` openings, in seconds."""
    app = Host()
    timings = []
    async with app.run_test(size=(120, 40)) as pilot:
        frames = Frames(app)
        for _ in range(repeats):
            screen = Bare() if records is None else RunsScreen(ITEM, records, WS, None, server=False)
            frames.expect(screen, wanted)
            await app.push_screen(screen)
            try:
                await asyncio.wait_for(frames.shown.wait(), 10)
            except TimeoutError:
                sys.exit(f"{type(screen).__name__}: no frame showed {sorted(frames.wanted)}")
            await pilot.pause()  # until idle: the opening's last frame
            timings.append((frames.complete - frames.start, frames.cpu, frames.last - frames.start))
            app.pop_screen()
            await pilot.pause()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, repeats = (500, 6) if args.quick else (5000, 15)
    folder = Path(tempfile.mkdtemp(prefix="difytui-runs-"))
    started = time.perf_counter()
    full = fill(folder / "full.db", count)
    print(f"recorded {full.count()} runs in {time.perf_counter() - started:.1f} s")
    # what each first screen must show: its newest row (or the empty note), title and key line
    # (key and description are styled apart: the terminal's bytes hold escapes between them)
    keys = {"Report Builder", "Compare", "Back"}
    views: dict[str, tuple[RunRecords | None, set[str]]] = {
        "bare screen": (None, {"nothing"}),
        "empty view": (RunRecords(Store(folder / "empty.db")), {"No runs recorded", *keys}),
        f"{PAGE} records": (fill(folder / "page.db", PAGE), {f"topic {PAGE - 1} ", *keys}),
        f"{count} records": (full, {f"topic {count - 1} ", *keys}),
    }
    times: dict[str, list[Timing]] = {name: [] for name in views}
    for _ in range(3):  # alternate, so load on the machine falls on each alike
        for name, (records, wanted) in views.items():
            times[name] += asyncio.run(first_screens(records, wanted, repeats // 3 or 1))
    empty = statistics.median(first for first, _, _ in times["empty view"])
    for name, found in times.items():
        median = statistics.median(first for first, _, _ in found)
        low = min(first for first, _, _ in found) * 1000
        cpu = statistics.median(cpu for _, cpu, _ in found) * 1000
        settled = statistics.median(last for _, _, last in found) * 1000
        print(
            f"{name:>12}: first screen median {median * 1000:6.1f} ms (min {low:5.1f}, CPU {cpu:5.1f})"
            f"  {median / empty:.2f}x the empty view;  settled {settled:6.1f} ms"
        )
    median = statistics.median(first for first, _, _ in times[f"{count} records"])
    verdict = "ok" if median < 0.1 else "OVER (on this machine now)"
    print(
        f"first screen with {count} records: {median * 1000:.0f} ms, the empty view {empty * 1000:.0f} ms;"
        f" goal under 100 ms -> {verdict}"
    )


if __name__ == "__main__":
    main()
