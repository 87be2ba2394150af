"""Streaming benchmark for the console's chat pane (headless Textual, no terminal I/O).

Two runs through the real pipeline — runner worker → typed messages → ChatPane → AnswerView →
``Markdown.get_stream()`` — fed by an in-process fake client (the network is not what is measured):

1. paced: 4,000 tokens at 150 tokens/s; reports event-loop lag p50/p99/max (a 10 ms ticker) and the
   total time against the ideal (tokens / rate).
2. burst: 20,000 tokens as fast as the pane takes them; reports the time per 1,000 tokens for the
   first and the last thousand (goal: last within 1.5× of first) and the final full render.

Goals: p99 lag < 16 ms; last thousand ≤ 1.5 × first thousand.

    python benchmarks/tui_stream.py            # both runs (~35 s)
    python benchmarks/tui_stream.py --quick    # 1,500 paced tokens, 5,000 burst tokens
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("DIFYTUI_DATA_DIR", tempfile.mkdtemp(prefix="difytui-bench-"))

from difytui.config import AppEntry, Workspace
from difytui.models import AppInfo
from difytui.store import Store
from difytui.tui.app import DifyConsole
from difytui.tui.widgets.response_log import AnswerView

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dogs",
    "while",
    "streaming",
    "markdown",
    "tokens",
    "into",
    "panes",
]


def tokens(n: int) -> list[str]:
    """~5-character tokens; a paragraph break every 40 tokens and a code fence every 400."""
    out: list[str] = []
    for i in range(n):
        if i and i % 400 == 0:
            out.append("\n\n```python\nprint('fenced')\nx = 1\n```\n\n")
        elif i and i % 40 == 0:
            out.append(".\n\n")
        else:
            out.append(WORDS[i % len(WORDS)] + " ")
    return out


class FakeStream:
    """An AsyncEventStream look-alike yielding chat events, paced (rate) or as fast as consumed."""

    def __init__(self, parts: list[str], rate: float | None) -> None:
        self.parts = parts
        self.rate = rate

    def __aiter__(self):
        return self._events()

    async def _events(self):
        base = {"conversation_id": "c-bench", "message_id": "m-bench", "task_id": "t-bench"}
        start = time.perf_counter()
        for i, part in enumerate(self.parts):
            if self.rate:
                delay = start + i / self.rate - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))
            elif i % 50 == 0:
                await asyncio.sleep(0)  # let the loop breathe, as socket reads would
            yield {"event": "message", **base, "id": "m-bench", "answer": part}
        yield {
            "event": "message_end",
            **base,
            "id": "m-bench",
            "metadata": {"usage": {"total_tokens": len(self.parts)}},
        }

    async def aclose(self) -> None:
        pass


class FakeClient:
    """Duck-types the parts of AsyncDify the console uses."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.rate: float | None = None
        self.app = self
        self.chat = self

    async def apps(self) -> list[AppInfo]:
        return [AppInfo("bench", "Bench", "chat", "chat", "streams synthetic tokens")]

    async def parameters(self, app_id: str) -> dict[str, Any]:
        return {"opening_statement": "", "suggested_questions": [], "user_input_form": []}

    def invoke(self, app_id: str, query: str, inputs: Any = None, **kwargs: Any) -> FakeStream:
        return FakeStream(self.parts, self.rate)

    async def stop(self, app_id: str, task_id: str) -> dict[str, str]:
        return {"result": "success"}

    async def messages(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"data": []}

    async def aclose(self) -> None:
        pass


async def ticker(samples: list[float], stop: asyncio.Event, interval: float = 0.01) -> None:
    while not stop.is_set():
        expected = time.perf_counter() + interval
        await asyncio.sleep(interval)
        samples.append(max(0.0, time.perf_counter() - expected))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def stream_once(n: int, rate: float | None) -> dict[str, Any]:
    client = FakeClient()
    client.parts = tokens(n)
    client.rate = rate
    workspace = Workspace(
        "bench", "http://bench.invalid/v1", "bench", {"bench": AppEntry.from_key("bench", "app-bench")}
    )
    app = DifyConsole(workspace, client=client, store=Store(":memory:"))
    stamps: list[float] = []
    original = AnswerView.write

    async def timed_write(self: AnswerView, fragment: str) -> None:
        await original(self, fragment)
        stamps.append(time.perf_counter())

    AnswerView.write = timed_write  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            while not app.app_list.apps["bench"].mode:
                await pilot.pause(0.01)
            app.open_app("bench")
            while app.current_pane is None or app.current_pane.form is None:
                await pilot.pause(0.01)
            pane = app.current_pane
            pane.prompt.text = "go"
            lag: list[float] = []
            stop = asyncio.Event()
            tick = asyncio.create_task(ticker(lag, stop))
            started = time.perf_counter()
            pane.action_run()
            while not (pane.log_view.query(AnswerView) and pane.log_view.query_one(AnswerView).rendered):
                await pilot.pause(0.005)
            finished = time.perf_counter()
            stop.set()
            await tick
            answer = pane.log_view.query_one(AnswerView)
            assert answer.status == "done" and len(stamps) == n, (answer.status, len(stamps))
            text_ok = answer.text == "".join(client.parts)
    finally:
        AnswerView.write = original  # type: ignore[method-assign]
    return {"stamps": stamps, "lag": lag, "started": started, "finished": finished, "text_ok": text_ok}


def report_paced(n: int, rate: float, result: dict[str, Any]) -> dict[str, Any]:
    lag_ms = [x * 1000 for x in result["lag"]]
    total = result["finished"] - result["started"]
    ideal = n / rate
    return {
        "tokens": n,
        "rate_tokens_per_s": rate,
        "lag_p50_ms": round(statistics.median(lag_ms), 2),
        "lag_p99_ms": round(percentile(lag_ms, 0.99), 2),
        "lag_max_ms": round(max(lag_ms), 2),
        "total_s": round(total, 2),
        "ideal_s": round(ideal, 2),
        "total_vs_ideal": round(total / ideal, 3),
        "text_intact": result["text_ok"],
        "goal_p99_lt_16ms": percentile(lag_ms, 0.99) < 16,
    }


def report_burst(n: int, result: dict[str, Any]) -> dict[str, Any]:
    stamps = [result["started"], *result["stamps"]]
    first = stamps[1000] - stamps[0]
    last = stamps[n] - stamps[n - 1000]
    streamed = stamps[n] - stamps[0]
    final_render = result["finished"] - stamps[n]
    return {
        "tokens": n,
        "first_1000_ms": round(first * 1000, 1),
        "last_1000_ms": round(last * 1000, 1),
        "last_vs_first": round(last / first, 2),
        "tokens_per_s": round(n / streamed),
        "final_full_render_ms": round(final_render * 1000, 1),
        "text_intact": result["text_ok"],
        "goal_last_le_1_5x_first": last <= 1.5 * first,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens (a quick sanity run)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args()
    paced_n, burst_n, rate = (1500, 5000, 150.0) if args.quick else (4000, 20000, 150.0)

    paced = report_paced(paced_n, rate, asyncio.run(stream_once(paced_n, rate)))
    burst = report_burst(burst_n, asyncio.run(stream_once(burst_n, None)))
    results = {"paced": paced, "burst": burst}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"paced  {paced_n} tokens at {rate:g}/s: lag p50 {paced['lag_p50_ms']} ms, "
            f"p99 {paced['lag_p99_ms']} ms, max {paced['lag_max_ms']} ms; "
            f"total {paced['total_s']} s vs ideal {paced['ideal_s']} s ({paced['total_vs_ideal']}x)"
        )
        print(
            f"burst  {burst_n} tokens: first 1000 {burst['first_1000_ms']} ms, last 1000 "
            f"{burst['last_1000_ms']} ms ({burst['last_vs_first']}x), {burst['tokens_per_s']} tokens/s, "
            f"final full render {burst['final_full_render_ms']} ms"
        )
        print(
            f"goals  p99 < 16 ms: {'yes' if paced['goal_p99_lt_16ms'] else 'NO'}; "
            f"last ≤ 1.5× first: {'yes' if burst['goal_last_le_1_5x_first'] else 'NO'}"
        )
    ok = paced["goal_p99_lt_16ms"] and burst["goal_last_le_1_5x_first"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
