"""Structural guards on streaming cost, counted (never timed): what one flush or the end of an
answer does must not grow with the answer's length or the number of answers in the log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.css.stylesheet import Stylesheet

from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.conftest import log_settled
from tests.tui.test_streaming import LogApp, markdown_tokens


@contextmanager
def counting_styles() -> Iterator[list[int]]:
    """Counts widgets whose styles are computed (``Stylesheet.apply``) while the block runs."""
    count = [0]
    apply = Stylesheet.apply

    def counted(self: Stylesheet, node: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return apply(self, node, *args, **kwargs)

    Stylesheet.apply = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        Stylesheet.apply = apply  # type: ignore[method-assign]


def rendered(answer: AnswerView) -> int:
    """Sealed pieces with a widget (the live one is not sealed)."""
    return sum(1 for piece in answer.pieces if piece.widget is not None)


async def burst(n: int) -> list[int]:
    """Stream n tokens with no pause into a following log; the rendered sealed pieces after each
    token (the text runs ahead of the screen: frames, and so the window's worker, lag behind)."""
    app = LogApp()
    seen = []
    async with app.run_test(size=(80, 16)) as pilot:
        log = app.query_one(ResponseLog)
        answer = AnswerView()
        await log.add(answer)
        for token in markdown_tokens(n):
            await answer.write(token)
            seen.append(rendered(answer))
        await answer.finish()
        seen.append(rendered(answer))
        await log_settled(pilot, log)
        assert len(answer.pieces) > 4
    return seen


async def test_a_burst_renders_only_the_pieces_near_the_end_whatever_its_length():
    short, long = await burst(1500), await burst(4500)
    # The sealed pieces within two viewports of the end: one or two here, at any length (before,
    # the window moved only after a frame: 8 pieces at 1,500 tokens, 24 at 4,500).
    assert max(long) == max(short) <= 2


async def test_the_end_of_an_answer_restyles_the_same_at_the_first_and_the_fifth_answer():
    """Finishing an answer styles its last blocks and its status line, never the log: a state
    class toggled on a container would restyle every answer above it (2.8 s at 5,000 nodes)."""
    app = LogApp()
    ends = []
    async with app.run_test(size=(80, 16)) as pilot:
        log = app.query_one(ResponseLog)
        for _ in range(5):
            answer = AnswerView()
            await log.add(answer)
            for token in markdown_tokens(600):
                await answer.write(token)
            await log_settled(pilot, log)  # every flush drawn: what follows is the end alone
            with counting_styles() as styled:
                await answer.finish()
                await log_settled(pilot, log)
            ends.append(styled[0])
    assert ends[-1] <= ends[0] + 4, ends
