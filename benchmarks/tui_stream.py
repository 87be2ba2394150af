"""Streaming benchmark for the console's chat pane, beside a plain Textual app (headless, no terminal I/O).

The console runs its real pipeline — runner worker → typed messages → ChatPane → AnswerView — fed by
an in-process fake client (the network is not what is measured). The *plain* baseline is a bare
Textual app: one ``Markdown`` widget per answer in a ``VerticalScroll``, fed through
``Markdown.get_stream()``, every answer kept as Markdown. Both get the same Markdown answer
(headings, paragraphs, lists, code fences, tables) in the same process, one after the other.

Figures per case:
- longest loop block: the largest delay of a 5 ms ticker from the first token to the final render;
- stall: from the last token handed over to the final text rendered and drawn;
(both in CPU time of the loop's thread: on a busy machine, waiting for a CPU is not the app's doing)
- lag p99 (paced case): the ticker's 99th percentile (goal < 16 ms);
- peak RSS (``--memory``): a child process per variant streams 20 answers of 500 KB into one chat.

    python benchmarks/tui_stream.py             # 4k paced, 20k burst, a 20-message chat (minutes)
    python benchmarks/tui_stream.py --big       # also 50k tokens
    python benchmarks/tui_stream.py --memory    # only the memory case (two child processes)
    python benchmarks/tui_stream.py --quick     # smaller sizes, a sanity run
    python benchmarks/tui_stream.py --burst-ab 3   # only the 20k burst (50k with --big), the console
        # alone, 3 rounds of: a new widget per piece entering the window, and widgets reused
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("DIFYTUI_DATA_DIR", tempfile.mkdtemp(prefix="difytui-bench-"))

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from difytui.config import AppEntry, Workspace
from difytui.models import AppInfo
from difytui.store import Store
from difytui.tui.app import DifyConsole
from difytui.tui.scripted_stream import ScriptedStream
from difytui.tui.widgets.line_piece import MarkdownLines
from difytui.tui.widgets.piece_window import PieceWindow
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


def answer_tokens(n: int, word: int = 1) -> list[str]:
    """~n tokens of Markdown: sections with a heading, paragraphs, a list, a code fence, a table.
    ``word`` > 1 makes each token that many words (the memory case: fewer, bigger tokens)."""
    out: list[str] = []
    i = 0

    def words(count: int) -> None:
        nonlocal i
        for _ in range(count):
            out.append(" ".join(WORDS[(i + k) % len(WORDS)] for k in range(word)) + " ")
            i += 1

    section = 0
    while len(out) < n:
        section += 1
        out.append(f"## Section {section}\n\n")
        for _ in range(3):
            words(40)
            out.append(".\n\n")
        for item in range(3):
            out.append(f"- item {item} ")
            words(6)
            out.append("\n")
        out.append("\n```python\n")
        for line in range(4):
            out.append(f"value_{line} = compute({line}, ")
            out.append("'fenced')\n")
        out.append("```\n\n| name | count | note |\n|---|---:|---|\n")
        for row in range(3):
            out.append(f"| row {row} | {row * 7} | ")
            words(3)
            out.append("|\n")
        out.append("\n")
    return out[:n]


# -- the fake client the console streams from -----------------------------------------------------------


async def feed(parts: list[str], rate: float | None) -> AsyncIterator[str]:
    start = time.perf_counter()
    for index, part in enumerate(parts):
        if rate:
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        elif index % 50 == 0:
            await asyncio.sleep(0)  # let the loop breathe, as socket reads would
        yield part


class FakeClient:
    """Duck-types the parts of AsyncDify the console uses; each invoke streams the next answer."""

    def __init__(self, answers: list[list[str]], rate: float | None) -> None:
        self.answers = answers
        self.rate = rate
        self.app = self
        self.chat = self
        self.sent = 0

    async def apps(self) -> list[AppInfo]:
        return [AppInfo("bench", "Bench", "chat", "chat", "streams synthetic tokens")]

    async def parameters(self, app_id: str) -> dict[str, Any]:
        return {"opening_statement": "", "suggested_questions": [], "user_input_form": []}

    def invoke(self, app_id: str, query: str, inputs: Any = None, **kwargs: Any) -> Any:
        parts = self.answers[self.sent]
        self.sent += 1
        return ScriptedStream(self._events(parts))

    async def _events(self, parts: list[str]) -> AsyncGenerator[dict[str, Any], None]:
        base = {"conversation_id": "c-bench", "message_id": f"m-{self.sent}", "task_id": f"t-{self.sent}"}
        async for part in feed(parts, self.rate):
            yield {"event": "message", **base, "id": base["message_id"], "answer": part}
        yield {"event": "message_end", **base, "id": base["message_id"], "metadata": {"usage": {}}}

    async def stop(self, app_id: str, task_id: str) -> dict[str, str]:
        return {"result": "success"}

    async def messages(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"data": []}

    async def aclose(self) -> None:
        pass


WARM_UP = "# t\n\npara\n\n- a\n\n```python\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"


async def warm_up(app: App[Any], pilot: Any) -> None:
    """Render every kind of block once (the first fence imports a Pygments lexer, ~0.3 s), with
    Textual's Markdown and with the console's line renderer, in both variants, so the figures
    compare streaming, not one-time imports."""
    samples = [Markdown(WARM_UP), MarkdownLines(WARM_UP)]
    await app.screen.mount_all(samples)
    await pilot.pause()
    for sample in samples:
        await sample.remove()


# -- measuring -----------------------------------------------------------------------------------------

#: How long a wait on recorded state may take before the run is given up (a 50k-token answer on a
#: loaded 2-core machine takes minutes; Textual's own pilot.pause gives up after 30 s of backlog).
WAIT_BOUND = 1200.0


async def wait_for(condition: Any, what: str) -> None:
    """Poll recorded state with a plain sleep: no forced layout (``pilot.pause`` refreshes the
    screen on every call, which would add work to what is measured)."""
    deadline = time.monotonic() + WAIT_BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {WAIT_BOUND:.0f} s: {what}")
        await asyncio.sleep(0.002)


def drawn(app: App[Any]) -> bool:
    """The screen has nothing left to lay out or paint: the last change is on screen."""
    screen = app.screen
    return not (
        screen._layout_required
        or screen._repaint_required
        or screen._scroll_required
        or screen._dirty_widgets
        or screen._layout_widgets
    )


@dataclass
class Probe:
    """A ticker: how late each 5 ms sleep wakes up is how long the loop was blocked.

    On a loaded machine a process also waits for a CPU; that is not the loop's doing. So a sample
    is the lateness, capped by the CPU time the loop's thread used meanwhile (on an idle machine
    the two agree)."""

    samples: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, interval: float = 0.005) -> None:
        while not self.stop.is_set():
            expected = time.perf_counter() + interval
            cpu = time.thread_time()
            await asyncio.sleep(interval)
            late = time.perf_counter() - expected
            self.samples.append(max(0.0, min(late, time.thread_time() - cpu)))


@dataclass
class Result:
    stall: float  # CPU time of the loop's thread from the last token to the final frame (see Probe)
    block: float
    lag: list[float]
    text_ok: bool


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def console_run(answers: list[list[str]], rate: float | None, measure: set[int]) -> dict[int, Result]:
    """Send len(answers) messages in one chat; measure the messages (1-based) in ``measure``."""
    client = FakeClient(answers, rate)
    workspace = Workspace(
        "bench", "http://bench.invalid/v1", "bench", {"bench": AppEntry.from_key("bench", "k")}
    )
    app = DifyConsole(workspace, client=client, store=Store(":memory:"))
    last_token = [0.0]
    original = AnswerView.write

    async def stamped(self: AnswerView, fragment: str) -> None:
        await original(self, fragment)
        last_token[0] = time.thread_time()

    AnswerView.write = stamped  # type: ignore[method-assign]
    results: dict[int, Result] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.app_list.apps["bench"].mode, "the app list")
            app.open_app("bench")
            await wait_for(lambda: app.current_pane is not None and app.current_pane.form, "the pane")
            pane = app.current_pane
            assert pane is not None
            await warm_up(app, pilot)
            for number, parts in enumerate(answers, 1):
                probe = Probe()
                ticker = asyncio.create_task(probe.run())
                pane.prompt.text = f"message {number}"
                pane.action_run()
                views: list[AnswerView] = []

                def answered(number: int = number, views: list[AnswerView] = views) -> bool:
                    views[:] = pane.log_view.query_children(AnswerView)
                    return pane.active is None and len(views) == number and views[-1].rendered

                await wait_for(answered, f"the end of answer {number}")
                await wait_for(lambda: drawn(app), "the final render drawn")
                done = time.thread_time()
                probe.stop.set()
                await ticker
                if number in measure:
                    text_ok = views[-1].text == "".join(parts)
                    results[number] = Result(done - last_token[0], max(probe.samples), probe.samples, text_ok)
    finally:
        AnswerView.write = original  # type: ignore[method-assign]
    return results


class PlainApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="log")

    def on_mount(self) -> None:
        self.query_one("#log", VerticalScroll).anchor()


async def plain_run(answers: list[list[str]], rate: float | None, measure: set[int]) -> dict[int, Result]:
    app = PlainApp()
    results: dict[int, Result] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one("#log", VerticalScroll)
        await warm_up(app, pilot)
        for number, parts in enumerate(answers, 1):
            probe = Probe()
            ticker = asyncio.create_task(probe.run())
            markdown = Markdown()
            await log.mount(markdown)
            stream = Markdown.get_stream(markdown)
            async for part in feed(parts, rate):
                await stream.write(part)
            last_token = time.thread_time()
            await stream.stop()
            await wait_for(lambda: drawn(app), "the final render drawn")
            done = time.thread_time()
            probe.stop.set()
            await ticker
            if number in measure:
                results[number] = Result(done - last_token, max(probe.samples), probe.samples, True)
    return results


# -- the cases ------------------------------------------------------------------------------------------


def row(name: str, ours: Result, plain: Result) -> dict[str, Any]:
    return {
        "case": name,
        "block_ms": round(ours.block * 1000, 1),
        "plain_block_ms": round(plain.block * 1000, 1),
        "stall_ms": round(ours.stall * 1000, 1),
        "plain_stall_ms": round(plain.stall * 1000, 1),
        "stall_ratio": round(ours.stall / max(plain.stall, 1e-6), 2),
        "text_intact": ours.text_ok,
        "goal": ours.block < 0.05 and ours.stall <= plain.stall * 1.1 + 0.01,
    }


def single(name: str, n: int, rate: float | None) -> tuple[dict[str, Any], Result]:
    parts = answer_tokens(n)
    ours = asyncio.run(console_run([parts], rate, {1}))[1]
    plain = asyncio.run(plain_run([parts], rate, {1}))[1]
    return row(name, ours, plain), ours


def chat(messages: int, n: int) -> list[dict[str, Any]]:
    answers = [answer_tokens(n) for _ in range(messages)]
    marks = {1, messages // 2, messages}
    ours = asyncio.run(console_run(answers, None, marks))
    plain = asyncio.run(plain_run(answers, None, marks))
    return [
        row(f"chat message {k} of {messages} ({n} tokens each)", ours[k], plain[k]) for k in sorted(marks)
    ]


@dataclass
class FullPasses:
    """Full (generation 2) collections while the console ran: how many, the longest (CPU time)."""

    times: list[float] = field(default_factory=list)
    collected: list[int] = field(default_factory=list)
    _start: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.times.append(time.thread_time() - self._start)
            self.collected.append(info["collected"])


def burst_ab(n: int, rounds: int) -> list[dict[str, Any]]:
    """The burst case, console only, in this process, one variant after the other: ``new`` (each
    piece entering an answer's window gets a new widget, and each leaving it is removed: cyclic
    garbage for the next full pass) and ``reused`` (the widgets of pieces leaving the window show
    the pieces entering it: ``PieceWindow._widget_for``, ``AnswerView._let_go``)."""
    widget_for = PieceWindow.__dict__["_widget_for"]
    let_go = AnswerView.__dict__["_let_go"]
    parts = answer_tokens(n)
    out = []
    for round_ in range(rounds):
        for variant in ("new", "reused"):
            if variant == "new":
                PieceWindow._widget_for = lambda self, index, free: self._piece_widget(index)  # type: ignore[method-assign]
                AnswerView._let_go = PieceWindow._let_go  # type: ignore[method-assign]
            else:
                PieceWindow._widget_for = widget_for  # type: ignore[method-assign]
                AnswerView._let_go = let_go  # type: ignore[method-assign]
            passes = FullPasses()
            gc.collect()  # the last variant's garbage is not this one's
            gc.callbacks.append(passes)
            try:
                ours = asyncio.run(console_run([parts], None, {1}))[1]
            finally:
                gc.callbacks.remove(passes)
            r = {
                "round": round_ + 1,
                "variant": variant,
                "block_ms": round(ours.block * 1000, 1),
                "stall_ms": round(ours.stall * 1000, 1),
                "full_passes": len(passes.times),
                "longest_full_pass_ms": round(max(passes.times, default=0.0) * 1000, 1),
                "freed": passes.collected,
                "text_intact": ours.text_ok,
            }
            print(
                f"burst {n} round {r['round']} {variant:<6} block {r['block_ms']:>6} ms  stall "
                f"{r['stall_ms']:>7} ms  full passes {r['full_passes']:>3} (longest "
                f"{r['longest_full_pass_ms']} ms), objects each freed {r['freed']}"
                f"{'' if ours.text_ok else '  TEXT DIFFERS'}",
                flush=True,
            )
            out.append(r)
    PieceWindow._widget_for = widget_for  # type: ignore[method-assign]
    AnswerView._let_go = let_go  # type: ignore[method-assign]
    return out


def memory_child(variant: str, messages: int, size: int) -> None:
    """Runs in a child process: stream ``messages`` answers of ~``size`` bytes, print peak RSS."""
    parts = answer_tokens(max(1, size // 60), word=10)  # ~60 bytes a token
    answers = [parts] * messages
    runner = console_run if variant == "console" else plain_run
    asyncio.run(runner(answers, None, set()))
    text = sum(len(p) for p in parts) * messages
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"variant": variant, "peak_rss_mb": round(peak, 1), "text_mb": round(text / 1e6, 1)}))


def memory(messages: int, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for variant in ("console", "plain"):
        command = [sys.executable, __file__, "--memory-child", variant, str(messages), str(size)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        out[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def show(r: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """Print a row as soon as it is measured (the whole run takes minutes)."""
    if not quiet:
        print(
            f"{r['case']:<44} block {r['block_ms']:>7} ms (plain {r['plain_block_ms']:>7})  "
            f"stall {r['stall_ms']:>7} ms (plain {r['plain_stall_ms']:>7}, {r['stall_ratio']}x)"
            f"{'' if r['text_intact'] else '  TEXT DIFFERS'}",
            flush=True,
        )
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a sanity run)")
    parser.add_argument("--big", action="store_true", help="also a 50k-token answer")
    parser.add_argument("--memory", action="store_true", help="only the memory case: 20 answers of 500 KB")
    parser.add_argument("--runs", type=int, default=1, help="paced 4k runs (p99 lag must hold in each)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--burst-ab", type=int, metavar="ROUNDS", help="only the burst: without and with the fixes"
    )
    args = parser.parse_args()
    if args.burst_ab:
        burst_ab(50000 if args.big else 20000, args.burst_ab)
        return 0
    if args.memory_child:
        variant, messages, size = args.memory_child
        memory_child(variant, int(messages), int(size))
        return 0

    results: dict[str, Any] = {}
    ok = True
    if args.memory:
        messages, size = (4, 100_000) if args.quick else (20, 500_000)
        results["memory"] = mem = memory(messages, size)
        ok = mem["console"]["peak_rss_mb"] < 250
    else:
        paced_n, burst_n, chat_n = (1500, 5000, (6, 1000)) if args.quick else (4000, 20000, (20, 1000))
        lags = []
        rows = []
        for _ in range(args.runs):
            paced, ours = single(f"paced {paced_n} tokens at 150/s", paced_n, 150.0)
            rows.append(show(paced, args.json))
            lags.append(round(percentile(ours.lag, 0.99) * 1000, 2))
        rows.append(show(single(f"burst {burst_n} tokens", burst_n, None)[0], args.json))
        if args.big:
            rows.append(show(single("burst 50000 tokens", 50000, None)[0], args.json))
        rows += [show(r, args.json) for r in chat(*chat_n)]
        results = {"rows": rows, "paced_lag_p99_ms": lags}
        ok = all(r["goal"] and r["text_intact"] for r in rows) and all(lag < 16 for lag in lags)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0 if ok else 1
    if "paced_lag_p99_ms" in results:
        print(f"paced lag p99 per run: {results['paced_lag_p99_ms']} ms (goal < 16)")
    if "memory" in results:
        mem = results["memory"]
        ours, plain = mem["console"], mem["plain"]
        print(
            f"peak RSS after {ours['text_mb']} MB of answers: console {ours['peak_rss_mb']} MB, "
            f"plain {plain['peak_rss_mb']} MB (goal < 250)"
        )
    print("goals met" if ok else "goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
