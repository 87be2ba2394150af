"""A reflow leaves no layout map to the cyclic collector (difytui.tui.textual_fixes): in a burst
the log reflows every frame, and each map Textual's ``_arrange_root`` dropped in a reference cycle
was kept until a full pass, which then freed them all in one long block of the loop."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from textual._compositor import MapGeometry
from textual.pilot import Pilot

from difytui.tui.gc_policy import GcPolicy
from difytui.tui.widgets.answer_view import AnswerView
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.test_streaming import LogApp, markdown_tokens, screen_text, settle


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable is kept in ``gc.garbage`` (not freed) for the test."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def layout_maps(objects: list[object]) -> int:
    return sum(
        isinstance(o, dict) and bool(o) and all(isinstance(v, MapGeometry) for v in o.values())
        for o in objects
    )


async def answered(app: LogApp, pilot: Pilot[None], tokens: int) -> ResponseLog:
    """The log with one answer of ``tokens`` tokens, streamed, ended and drawn."""
    log = app.query_one(ResponseLog)
    answer = AnswerView()
    await log.add(answer)
    for token in markdown_tokens(tokens):
        await answer.write(token)
    await answer.finish()
    await settle(pilot, log)
    return log


async def test_a_reflow_leaves_no_layout_map_to_the_cyclic_collector(saved_garbage: list[object]) -> None:
    policy = GcPolicy()
    policy.first_frame()  # the console installs the fix after its first frame
    try:
        app = LogApp()
        async with app.run_test(size=(80, 24)) as pilot:
            log = await answered(app, pilot, 400)
            gc.collect()
            saved_garbage.clear()
            reflows = 0
            for width in (70, 80, 70, 80):  # a new width: every widget is placed again
                await pilot.resize_terminal(width, 24)
                await settle(pilot, log)
                reflows += 1
            gc.collect()
            names = [getattr(o, "__name__", "") for o in saved_garbage if callable(o)]
            assert layout_maps(saved_garbage) == 0, f"{layout_maps(saved_garbage)} maps in {reflows} reflows"
            assert "add_widget" not in names
    finally:
        policy.close()


async def test_the_fixed_arrange_places_every_widget_as_textual_does() -> None:
    """The same map, geometry for geometry, from Textual's method and the fixed one."""
    from textual._compositor import Compositor

    from difytui.tui import textual_fixes

    textual_fixes.install_acyclic_arrange()
    fixed = Compositor._arrange_root
    original = getattr(fixed, "_difytui_original", None)
    assert original is not None
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await answered(app, pilot, 300)
        compositor = app.screen._compositor
        for visible_only in (True, False):
            ours = fixed(compositor, app.screen, app.size, visible_only)
            theirs = original(compositor, app.screen, app.size, visible_only)
            assert ours == theirs and len(ours[0]) > 5
        assert screen_text(app).strip()
