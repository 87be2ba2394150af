"""A piece that leaves the answer's window holds no strips once it is unmounted
(difytui.tui.widgets.line_piece). In a burst a dropped piece is cyclic garbage until a full
collection pass, and every strip it held was freed by that pass, in one long block of the loop;
let go at unmount, they are freed by refcounting."""

from __future__ import annotations

import gc
from collections import deque
from types import FunctionType, ModuleType

from textual.dom import DOMNode
from textual.strip import Strip

from difytui.tui.gc_policy import GcPolicy
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import ResponseLog
from tests.tui.conftest import log_settled
from tests.tui.test_streaming import LogApp, markdown_tokens, screen_text


def strips_held(widget: DOMNode) -> int:
    """Strips reachable from ``widget`` through what it holds (not through other nodes: the app,
    its parent), counted by walking references."""
    seen = {id(widget)}
    queue: deque[object] = deque([widget])
    strips = 0
    while queue:
        for ref in gc.get_referents(queue.popleft()):
            if id(ref) in seen or isinstance(ref, DOMNode | type | ModuleType | FunctionType):
                continue
            seen.add(id(ref))
            strips += type(ref) is Strip
            queue.append(ref)
    return strips


def piece_text() -> str:
    return "".join(markdown_tokens(400))


async def test_a_removed_piece_holds_no_strips() -> None:
    GcPolicy()  # the console's Textual fixes (strips without cycles of their own)
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ResponseLog)
        piece = LinePiece()
        text = piece_text()
        piece.set_parts([(text, text)])
        await log.mount(piece)
        await log_settled(pilot, log)
        drawn = strips_held(piece)
        assert drawn > 20  # its lines, their painted copies, its styles cache
        await piece.remove()
        await pilot.pause()
        assert strips_held(piece) == 0, f"{strips_held(piece)} strips held after removal ({drawn} before)"


async def test_a_piece_mounted_again_draws_its_lines_again() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(ResponseLog)
        piece = LinePiece()
        piece.set_parts([("# Title\n\nsome words here\n", "# Title\n\nsome words here\n")])
        await log.mount(piece)
        await log_settled(pilot, log)
        before = screen_text(app)
        assert "Title" in before and "some words here" in before
        await piece.remove()
        await pilot.pause()
        assert "some words" not in screen_text(app)
        await log.mount(piece)
        await log_settled(pilot, log)
        assert screen_text(app) == before
