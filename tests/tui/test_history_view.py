"""History answers are windowed like streamed ones (issue 7's memory point, issue 11's history):
an answer loaded from a conversation's history keeps its text, and only the pieces near the
viewport are rendered (as lines). Against the simulator over loopback; waits on recorded state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from difytui.sim import Simulator
from difytui.sim.apps import ALL_APPS
from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole
from difytui.tui.message_actions import AnswerBar
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.history_paging import START, HistoryAnswer
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import ResponseLog, UserTurn

from .conftest import log_settled, open_app, screen_text, wait_until, workspace_for
from .test_streaming import LogApp, markdown_tokens, whole_answer_screen

CHAT = "support-bot"
USER = "tester"  # the console's user (conftest.workspace_for)
BLOCKS = 5  # Markdown blocks in each seeded answer
SIZE = (120, 60)  # the log below the form shows a whole answer


def answer_text(n: int) -> str:
    return (
        f"## Answer {n}\n\nThe invoice for order {n} is on the billing page.\n\n"
        "- open **Billing**\n- pick the month\n\n"
        f"```python\nclient.invoices.get(order={n})\n```\n\n"
        f"Answer {n} ends here.\n"
    )


def seed(sim: Simulator, count: int) -> tuple[str, list[str]]:
    """One conversation of ``count`` messages, a second apart; its id and the message ids, oldest first."""
    conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, USER, "q0", {"product": "difytui"})
    ids = []
    for n in range(count):
        sim.state.clock = lambda now=1_795_996_000 + n: now
        message = sim.state.add_message(conv, f"question {n}", {})
        message.answer = answer_text(n)
        ids.append(message.id)
    return conv.id, ids


@asynccontextmanager
async def continued(sim: Simulator, count: int) -> AsyncIterator[tuple[Any, DifyConsole, Any, list[str]]]:
    """(pilot, app, chat pane, message ids) of a console whose chat pane continues a seeded
    conversation of ``count`` messages, its first page shown."""
    conversation_id, ids = seed(sim, count)
    store = Store()
    ws = workspace_for(sim)
    store.set_conversation(workspace_key(ws), CHAT, conversation_id)
    app = DifyConsole(ws, store=store)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pane = await open_app(pilot, app, CHAT)
            await history_settled(pilot, pane)
            yield pilot, app, pane, ids
    finally:
        store.close()


async def history_settled(pilot: Any, pane: Any) -> None:
    await wait_until(pilot, lambda: pane.history_count and not pane.history_loading, what="history")
    await log_settled(pilot, pane.log_view)


def rendered(log: ResponseLog) -> int:
    """Pieces rendered as lines (each seeded answer is one piece of BLOCKS blocks)."""
    return len(log.query(LinePiece))


async def test_a_long_history_keeps_its_text_not_its_blocks_and_scrolls_back_exactly(sim):
    async with continued(sim, 70) as (pilot, app, pane, _ids):
        log = pane.log_view
        assert pane.history_count == 50
        assert rendered(log) < 50 / 4  # the old history: every answer rendered (50 pieces, 250 blocks)
        assert "Answer 69 ends here." in screen_text(app)  # the newest at the bottom, rendered

        marker = pane._history_marker
        for _ in range(20):  # as the user scrolls up: the older pages load
            if START in str(marker.render()):
                break
            log.scroll_home(animate=False, immediate=True)
            await history_settled(pilot, pane)
        assert pane.history_complete and pane.history_count == 70
        log.scroll_home(animate=False, immediate=True)
        await log_settled(pilot, log)
        assert rendered(log) < 70 / 5  # only what is near the top is rendered

        answers = list(log.query_children(HistoryAnswer))
        assert len(answers) == 70
        first = answers[0]
        assert first.text == answer_text(0)  # every answer keeps its text
        shown = [p.widget for p in first.pieces if p.widget is not None]
        assert shown and all(w.source == p.text for w, p in zip(shown, first.pieces, strict=False))
        text = screen_text(app)
        assert "Answer 0" in text and "client.invoices.get(order=0)" in text and "Answer 0 ends here." in text
        assert not any(p.widget for p in answers[-1].pieces)  # the newest is text now


async def test_an_older_page_fills_above_the_view_without_moving_it(sim):
    async with continued(sim, 70) as (pilot, app, pane, _ids):
        log = pane.log_view
        log.scroll_home(animate=False, immediate=True)  # the user reaches the top: a page loads
        top = log.query_children(UserTurn).first()  # the oldest turn shown, read now (laid out)
        assert top.text == "question 20"
        offset = top.virtual_region.y - int(log.scroll_y)
        await wait_until(pilot, lambda: pane.history_count > 50 and not pane.history_loading, what="a page")
        await log_settled(pilot, log)
        # The older page's answers were filled above the viewport, one by one: the turn stayed.
        assert top.virtual_region.y - int(log.scroll_y) == offset
        assert all(answer.finished for answer in log.query_children(HistoryAnswer))
        assert "question 20" in screen_text(app)


async def test_alt_up_picks_an_older_history_answer_and_like_rates_that_message(sim):
    async with continued(sim, 60) as (pilot, app, pane, ids):
        log = pane.log_view
        for _ in range(5):  # each press picks the answer before (the last one is picked at first)
            await pilot.press("alt+up")
        await log_settled(pilot, log)
        bars = list(log.query_children(AnswerBar))
        picked = bars[-6]
        assert picked.selected and [b for b in bars if b.selected] == [picked]
        assert picked.message_id == ids[-6]
        answer = picked.answer
        assert isinstance(answer, HistoryAnswer) and answer.message_id == ids[-6]
        # scrolled to (after a frame: the scroll waits for the layout), it is rendered again
        await wait_until(pilot, lambda: any(p.widget for p in answer.pieces), what="its pieces")
        await log_settled(pilot, log)
        assert f"Answer {len(ids) - 6} ends here." in screen_text(app)

        await pilot.press("alt+l")
        await wait_until(
            pilot, lambda: [(f.message_id, f.rating) for f in sim.state.feedbacks] == [(ids[-6], "like")]
        )
        await wait_until(pilot, lambda: not picked.saving and picked.rating == "like", what="the bar")
        assert "👍 liked" in str(picked.render())
        await pilot.press("ctrl+y")
        assert app.clipboard == answer_text(len(ids) - 6)


async def test_a_filled_answer_renders_exactly_as_the_whole_answer():
    text = "".join(markdown_tokens(400))
    size = (100, 400)  # the whole answer on one screen
    filled = LogApp()
    async with filled.run_test(size=size) as pilot:
        answer = AnswerView()
        log = filled.query_one(ResponseLog)
        await log.add(answer)
        AnswerView.SEAL_BLOCKS, seal = 4, AnswerView.SEAL_BLOCKS  # many pieces in a short text
        try:
            await answer.fill(text)
        finally:
            AnswerView.SEAL_BLOCKS = seal
        await log_settled(pilot, log)
        assert len(answer.pieces) > 5 and answer.text == text
        assert answer.finished and answer.rendered and not answer.status_line.display
        pieces_shown = screen_text(filled)
    assert await whole_answer_screen(text, size) == pieces_shown
