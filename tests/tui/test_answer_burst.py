"""A burst of text that seals pieces before the answer's first frame (tests/tui/test_streaming.py
has the streaming cases)."""

from __future__ import annotations

from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.test_streaming import LogApp, markdown_tokens


async def test_pieces_sealed_before_the_first_frame_are_measured():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        answer = AnswerView()
        with app.batch_update():  # no frame is drawn while the burst lasts
            await log.add(answer)
            for token in markdown_tokens(1500):
                await answer.write(token)
            assert answer.size.width == 0  # not laid out yet
            sealed = answer.pieces
            assert len(sealed) >= 3
            # Measured 0 lines, every piece would count as on screen and stay mounted.
            assert all(piece.height > 0 for piece in sealed)
        await answer.finish()
        await pilot.pause()
        assert answer.text == "".join(markdown_tokens(1500))
