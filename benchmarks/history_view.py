"""Opening a chat of 250 messages from the simulator, beside the old plain-Markdown history.

All in one process, headless: the real console (DifyConsole) on the simulator over loopback, its
chat pane continuing a seeded conversation of 250 messages (each answer a few paragraphs, a list
and a code fence). Two variants, one after the other in the same process:

- *windowed* (today's): a history answer is an AnswerView whose pieces far from the viewport are
  kept as text behind spacers;
- *plain* (before): every history answer a full ``Markdown`` widget (the old ``HistoryAnswer``,
  kept below and swapped in for this run).

Figures per variant:
- first screen: from ``open_conversation`` to the newest answer's text drawn on screen;
- first page loaded: until every answer of the first page is ready (the next page may load);
- blocks / widgets: MarkdownBlock widgets (or pieces of lines, which stand for up to 16 blocks),
  and all widgets, in the log after the first page and
  after scrolling back to the conversation's start (all 250 messages loaded);
- alt+up: one selection of an older answer (the key handled, the scroll, the frame drawn), the
  median of several presses on the whole history;
(wall time, and the process's CPU time beside it: on a busy machine the wall time waits for a CPU).

    python benchmarks/history_view.py            # 250 messages, 9 presses
    python benchmarks/history_view.py --quick    # 100 messages, 5 presses
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("DIFYTUI_DATA_DIR", tempfile.mkdtemp(prefix="difytui-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from difytui.config import AppEntry, Workspace
from difytui.history import Message as HistoryMessage
from difytui.sim import Simulator
from difytui.sim.apps import ALL_APPS
from difytui.store import Store
from difytui.tui.app import DifyConsole
from difytui.tui.safe_text import clean
from difytui.tui.screens.conversations import ConversationEntry
from difytui.tui.widgets import history_paging
from difytui.tui.widgets.line_piece import LinePiece

CHAT = "support-bot"
USER = "bench"
SIZE = (120, 40)


def answer(n: int) -> str:
    return (
        f"## Answer {n}\n\nThe invoice for order {n} is in the billing page; it lists every line "
        "of the order with its tax, and the total at the end of the page.\n\n"
        "- open **Billing** from the account menu\n- pick the order's month\n- press *Download*\n\n"
        f"```python\nclient.invoices.get(order={n})\n```\n\n"
        "If it is not there yet, it is made on the first day of the next month; the mail that "
        "announces it holds a link to the same page.\n"
    )


def seed(sim: Simulator, count: int) -> str:
    conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, USER, "q0", {"product": "difytui"})
    for n in range(count):
        sim.state.clock = lambda now=1_795_996_000 + n: now
        sim.state.add_message(conv, f"question {n}", {}).answer = answer(n)
    return conv.id


# -- the old history: one full Markdown widget per answer ------------------------------------------


class PlainAnswer(Markdown):
    def __init__(self, message: HistoryMessage) -> None:
        super().__init__(clean(message.answer), classes="history-answer")
        self.message_id = message.id


@contextmanager
def variant(name: str) -> Iterator[None]:
    saved = history_paging.turn_widgets
    if name == "plain":
        history_paging.turn_widgets = partial(saved, answer_widget=PlainAnswer)
    try:
        yield
    finally:
        history_paging.turn_widgets = saved


# -- measuring -------------------------------------------------------------------------------------


def screen_text(app: DifyConsole) -> str:
    """What the terminal shows now (the last frame drawn)."""
    width, height = app.size
    out = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    out.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return out.export_text()


def counts(log: Widget) -> tuple[int, int]:
    nodes = list(log.walk_children())
    return sum(isinstance(w, (MarkdownBlock, LinePiece)) for w in nodes), len(nodes)


async def settle(pilot: Any, pane: Any) -> None:
    for _ in range(500):
        await pilot.pause()
        if not pane.history_loading and getattr(pane.log_view, "settled", True):
            return


async def measure(sim: Simulator, cid: str, count: int, presses: int) -> dict[str, Any]:
    apps = {k: AppEntry.from_key(k, v) for k, v in sim.apps_config().items()}
    ws = Workspace(name="bench", base_url=sim.base_url, user=USER, apps=apps, source="bench")
    app = DifyConsole(ws, store=Store())
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_app(CHAT)
        for _ in range(500):
            pane = app.current_pane
            if pane is not None and pane.item.id == CHAT and pane.form is not None:
                break
            await pilot.pause(0.01)
        assert pane is not None
        await settle(pilot, pane)
        entry = ConversationEntry(cid, "bench", time.time(), {"product": "difytui"})
        newest = f"client.invoices.get(order={count - 1})"  # in the newest answer
        start, cpu = time.perf_counter(), time.process_time()
        await pane.open_conversation(entry)
        while not pane.history_count or newest not in screen_text(app):
            await pilot.pause()
        out["first screen ms"] = (time.perf_counter() - start) * 1000
        out["first screen CPU ms"] = (time.process_time() - cpu) * 1000
        while pane.history_loading:
            await pilot.pause()
        out["first page loaded ms"] = (time.perf_counter() - start) * 1000
        await settle(pilot, pane)
        out["blocks, first page"], out["widgets, first page"] = counts(pane.log_view)
        start = time.perf_counter()
        while not pane.history_complete:
            pane.log_view.scroll_home(animate=False)
            await pilot.pause()
            while pane.history_loading:
                await pilot.pause()
        await settle(pilot, pane)
        out["scroll back to start s"] = time.perf_counter() - start
        out["blocks, all loaded"], out["widgets, all loaded"] = counts(pane.log_view)
        out["messages"] = pane.history_count
        pane.log_view.scroll_end(animate=False)
        await settle(pilot, pane)
        timings, cpus = [], []
        for key in ["alt+up"] * (presses + 1):  # (the first picks the answer before the last)
            start, cpu = time.perf_counter(), time.process_time()
            await pilot.press(key)
            await pilot.pause()
            timings.append((time.perf_counter() - start) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            await settle(pilot, pane)
        out["alt+up ms (median)"] = statistics.median(timings)
        out["alt+up ms (max)"] = max(timings)
        out["alt+up CPU ms (median)"] = statistics.median(cpus)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, presses = (100, 5) if args.quick else (250, 9)
    results = {}
    with Simulator() as sim:
        cid = seed(sim, count)
        for name in ("plain", "windowed"):
            with variant(name):
                results[name] = await measure(sim, cid, count, presses)
    keys = list(results["plain"])
    print(f"history of {count} messages, {SIZE[0]}x{SIZE[1]}")
    print(f"{'':28}{'plain':>12}{'windowed':>12}{'ratio':>8}")
    for key in keys:
        old, new = results["plain"][key], results["windowed"][key]
        ratio = f"{new / old:.2f}" if old else ""
        fmt = (lambda v: f"{v:12.1f}") if isinstance(old, float) else (lambda v: f"{v:12d}")
        print(f"{key:28}{fmt(old)}{fmt(new)}{ratio:>8}")


if __name__ == "__main__":
    asyncio.run(main())
