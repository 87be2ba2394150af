"""What a full garbage-collection pass scans must not grow with the answers streamed: the style
caches (and their rendered strips) of widgets that are gone are let go (difytui.tui.textual_fixes,
installed by the console's GC policy)."""

from __future__ import annotations

import gc

import pytest
from rich.segment import Segment
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.strip import Strip
from textual.widgets import Markdown

from difytui.tui.gc_policy import GcPolicy
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.conftest import log_settled
from tests.tui.test_streaming import LogApp, markdown_tokens


def alive(kind: type) -> int:
    gc.collect()
    return sum(type(o) is kind for o in gc.get_objects())


async def test_dropped_answers_leave_no_style_caches_or_strips_behind():
    GcPolicy()  # the console builds its policy at start-up: that installs the fix
    tokens = markdown_tokens(600)
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        counts: list[tuple[int, int]] = []
        for _ in range(6):
            answer = AnswerView()
            await log.add(answer)
            for token in tokens:
                await answer.write(token)
            await answer.finish()
            await log_settled(pilot, log)
            await log.remove_children()
            await pilot.pause()
            counts.append((alive(StylesCache), alive(Strip)))
        # Each answer made and dropped a few hundred widgets: the style caches and strips alive
        # after six answers are those after the first one, nothing piles up with the answers.
        (caches, strips), (last_caches, last_strips) = counts[0], counts[-1]
        assert last_caches <= caches + 8, counts
        assert last_strips <= strips + 200, counts


class CountingApp(LogApp):
    def __init__(self) -> None:
        super().__init__()
        self.contents_posted = 0

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        self.contents_posted += 1


async def test_answer_pieces_post_no_table_of_contents_that_would_keep_them_alive():
    """Each message holds its piece: queued in the pane, which does not read its queue while it
    awaits the run, they kept every piece of the answer (and its blocks) alive until the end."""
    app = CountingApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        answer = AnswerView()
        await log.add(answer)
        for token in markdown_tokens(600):
            await answer.write(token)
        await answer.finish()
        await log_settled(pilot, log)
        await log.add(Markdown("# a heading elsewhere"))  # other Markdown widgets still post theirs
        for _ in range(500):  # it bubbles through the log's and the screen's queues
            if app.contents_posted:
                break
            await pilot.pause()
        await log_settled(pilot, log)
        pieces = [p.widget for p in answer.pieces if p.widget is not None]
        assert len(answer.pieces) > 2 and pieces and all(p.source for p in pieces)
        assert app.contents_posted == 1


def test_strips_make_their_caches_on_first_use_and_cache_as_before():
    """Textual builds seven caches with every strip, most never used; a full pass scanned them
    all (58k of 145k objects mid-stream). The fix makes each on first use."""
    GcPolicy()
    gc.collect()
    before = len(gc.get_objects())
    strips = [Strip([Segment(f"line {n} of the answer")]) for n in range(1000)]
    # a strip, its list and its segment: not 7 more for its caches
    assert len(gc.get_objects()) - before < 4 * len(strips)

    strip = strips[7]
    with pytest.raises(AttributeError):
        Strip._crop_cache.__get__(strip)  # the slot is still empty: no cache was made
    cropped = strip.crop(0, 4)
    assert cropped.text == "line" and strip.crop(0, 4) is cropped  # made on first use, then reused
    assert [part.text for part in strip.divide([4, 7, 20])] == ["line", " 7 ", "of the answer"]
    assert strip.apply_style(Style(bold=True)).text == strip.text
    assert strip.adjust_cell_length(4).text == "line" and strip.adjust_cell_length(30).cell_length == 30
    with pytest.raises(AttributeError):
        strip.no_such_attribute  # noqa: B018 (other names still fail as before)


def test_a_strip_drawn_whole_is_freed_without_a_full_collection():
    """The compositor divides nearly every line at its end and crops it to its own width: each
    such strip cached itself, a reference cycle only a full pass frees (textual_fixes)."""
    GcPolicy()
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):
            strip = Strip([Segment("a line", Style(bold=True))])
            assert strip.divide([strip.cell_length]) == [strip]
            assert strip.crop_extend(0, strip.cell_length, None) is strip
            del strip
        assert gc.collect() == 0  # refcounting freed them all
    finally:
        gc.enable()
