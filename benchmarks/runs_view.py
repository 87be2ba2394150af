"""The Runs view's first screen with 5,000 recorded runs, beside the same view with none.

All in one process, headless: a bare host app pushes ``RunsScreen`` and waits until it is
mounted (its first page queried and put in the table) and the next frame is drawn. The records
are real ones (``RunRecords.add``, events compressed) in a file database; the list reads one
page (LIMIT) of summary columns and never decompresses events, so the figure should barely
depend on how many runs are kept: beside the empty view, a store of one page shows what drawing
the rows costs, so the 5,000 figure against it is what the number of runs costs. Goal: under 100 ms.

    python benchmarks/runs_view.py            # 5,000 records, 15 openings of each view
    python benchmarks/runs_view.py --quick    # 500 records, 5 openings
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


class Host(App[None]):
    pass


class Bare(Screen[None]):
    """The floor: a screen with one line of text, pushed and drawn the same way."""

    def compose(self) -> ComposeResult:
        yield Static("nothing")


async def first_screens(records: RunRecords | None, repeats: int) -> list[float]:
    app = Host()
    timings = []
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(repeats):
            start = time.perf_counter()
            screen = Bare() if records is None else RunsScreen(ITEM, records, WS, None, server=False)
            await app.push_screen(screen)
            await pilot.pause()  # the first frame drawn
            timings.append(time.perf_counter() - start)
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
    views: dict[str, RunRecords | None] = {
        "bare screen": None,
        "empty view": RunRecords(Store(folder / "empty.db")),
        f"one page ({PAGE})": fill(folder / "page.db", PAGE),
        f"{count} records": full,
    }
    times: dict[str, list[float]] = {name: [] for name in views}
    for _ in range(3):  # alternate, so load on the machine falls on each alike
        for name, records in views.items():
            times[name] += asyncio.run(first_screens(records, repeats // 3 or 1))
    empty = statistics.median(times["empty view"])
    bare = statistics.median(times["bare screen"])
    for name, found in times.items():
        median = statistics.median(found)
        low = min(found) * 1000
        print(f"{name:>16}: median {median * 1000:6.1f} ms  (min {low:6.1f})  {median / empty:.2f}x")
    median = statistics.median(times[f"{count} records"])
    verdict = "ok" if median < 0.1 else "OVER (on this machine now)"
    print(f"first screen with {count} records: {median * 1000:.0f} ms; goal under 100 ms -> {verdict}")
    # What pushing any screen and waiting for its frame costs here (pilot pacing, compositing):
    # the view's own share is what it adds to that.
    print(f"beyond a bare screen ({bare * 1000:.0f} ms): {(median - bare) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
