"""Comparing two runs (issue 11): what the compare screen does on the UI thread stays small; the
outputs' diffs (difflib, the slow part on long outputs) run in its worker.

Printed for a small run (10 nodes, a 50-line report) and a large one (1,000 node executions, a
2,000-line report that differs every 7th line): the time of ``summarize`` on both runs (the
baseline, measured in this process), of ``compare_runs(diffs=False)`` (the UI thread's share) and of
``with_diffs`` (the worker's), with their ratios to the baseline.

    python benchmarks/compare_runs.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from difytui.run_compare import compare_runs, with_diffs
from difytui.run_records import JSON, summarize


def events(nodes: int, salt: str, lines: int) -> list[JSON]:
    found: list[JSON] = []
    for i in range(nodes):
        data = {"id": f"e{i}", "node_id": f"n{i % 50}", "title": f"Node {i % 50}", "node_type": "llm"}
        found.append({"event": "node_started", "data": data})
        finished = {"status": "succeeded", "elapsed_time": 0.01 * i, "outputs": {"text": f"out {i} {salt}"}}
        found.append({"event": "node_finished", "data": {**data, **finished}})
    report = "\n".join(f"line {i} {salt if i % 7 == 0 else ''}" for i in range(lines))
    outputs = {"status": "succeeded", "outputs": {"report": report}, "elapsed_time": 3.0, "total_tokens": 5}
    found.append({"event": "workflow_finished", "data": outputs})
    return found


def best(call: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(nodes: int, lines: int) -> None:
    a, b = events(nodes, "a", lines), events(nodes, "b", lines)
    base = best(lambda: (summarize("x", "workflow", {}, a), summarize("y", "workflow", {}, b)))
    left, left_events = summarize("x", "workflow", {"k": 1}, a)
    right, right_events = summarize("y", "workflow", {"k": 2}, b)
    ui = best(lambda: compare_runs(left, right, left_events, right_events, diffs=False))
    bare = compare_runs(left, right, left_events, right_events, diffs=False)
    worker = best(lambda: with_diffs(bare, left, right))
    print(
        f"{nodes} nodes, {lines}-line report: summarize both {base * 1000:.2f} ms; "
        f"UI thread {ui * 1000:.2f} ms ({ui / base:.1f}x); "
        f"worker {worker * 1000:.1f} ms ({worker / base:.0f}x)"
    )


def main() -> None:
    measure(10, 50)
    measure(1000, 2000)


if __name__ == "__main__":
    main()
