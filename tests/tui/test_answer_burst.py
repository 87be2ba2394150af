"""A burst of text that seals pieces before the answer's first frame (tests/tui/test_streaming.py
has the streaming cases)."""

from __future__ import annotations

from textual.widgets import Static

from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.conftest import log_settled
from tests.tui.test_streaming import LogApp, markdown_tokens, screen_text, stream


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


async def test_a_frame_after_a_burst_lays_out_without_rendering_markdown(monkeypatch):
    """Text that arrives between two frames is rendered as it arrives, at the width the layout
    will ask for: rendered inside the next frame's layout, a burst's parts made one long block."""
    from textual._compositor import Compositor

    from difytui.tui.markdown_lines import LineRenderer

    in_layout = [False]
    renders_in_layout = [0]
    reflow, render = Compositor.reflow, LineRenderer.render

    def counted_reflow(self, parent, size):
        in_layout[0] = True
        try:
            return reflow(self, parent, size)
        finally:
            in_layout[0] = False

    def counted_render(self, text, width):
        renders_in_layout[0] += in_layout[0]
        return render(self, text, width)

    monkeypatch.setattr(Compositor, "reflow", counted_reflow)
    monkeypatch.setattr(LineRenderer, "render", counted_render)
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        first = AnswerView()
        await log.add(first)
        await first.fill("".join(markdown_tokens(800)))  # the log has its scrollbar already
        await log_settled(pilot, log)
        answer = AnswerView()
        await log.add(answer)
        await log_settled(pilot, log)
        tokens = markdown_tokens(1500)
        renders_in_layout[0] = 0
        with app.batch_update():  # no frame while the burst lasts
            for token in tokens:
                await answer.write(token)
        await log_settled(pilot, log)
        assert answer.pieces and answer._live is not None  # sealed pieces, and a live one
        assert renders_in_layout[0] == 0
        await answer.finish()
        await log_settled(pilot, log)
        assert answer.text == "".join(tokens)


async def test_an_answer_brought_back_into_view_by_content_shrinking_below_it_is_drawn():
    """While the log follows its end, Textual moves the view in the frame's arrange without telling
    the scroll watcher: content removed under the last answer pulled an earlier answer's dropped
    pieces into view, blank (the chat snapshot caught it under load)."""
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        first = AnswerView()
        await log.add(first)
        await first.fill("".join(markdown_tokens(800)))
        filler = Static("below", classes="filler")
        filler.styles.height = 200
        await log.add(filler)
        await log_settled(pilot, log)
        assert log.follows_end and not first.query_children(LinePiece)  # far above: text only
        await filler.remove()
        await log_settled(pilot, log)
        assert first.region.bottom > log.region.y  # its end is in view again
        assert first.query_children(LinePiece)  # and drawn
        text = screen_text(app)
        last_words = first.pieces[-1].text.split()[-3:]
        assert all(word.strip("|*`") in text for word in last_words)


async def test_a_long_answer_reuses_the_widgets_of_pieces_leaving_the_window(monkeypatch):
    """While the log follows the end, a piece leaves the window as one is sealed: its widget shows
    the next piece. A widget mounted and removed per piece was CSS, events and, once removed,
    cyclic garbage: half of each full collection's time in a burst."""
    made = [0]
    init = LinePiece.__init__

    def counted(self, *args, **kwargs):
        made[0] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(LinePiece, "__init__", counted)
    tokens = markdown_tokens(3000)
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        answer = AnswerView()
        await log.add(answer)
        await stream(answer, tokens)
        await log_settled(pilot, log)
        assert answer.text == "".join(tokens)
        assert len(answer.pieces) >= 10
        assert made[0] <= 4  # the window's pieces and the live one, not one per piece
        widgets = [piece.widget for piece in answer.pieces if piece.widget is not None]
        assert widgets and list(answer.query_children(LinePiece)) == widgets  # no spare left
        shown = answer.pieces[-len(widgets) :]
        assert all(w.display and w.source == p.text for w, p in zip(widgets, shown, strict=True))
