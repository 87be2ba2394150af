"""Issue 10 point 3: raw events can be read in the pane they are shown in, and searched.

Before: RichLog's default ``min_width`` (78) wrapped each JSON line at 78 columns inside a pane
about 40 wide, so the pane's edge cut the middle of every line off; nothing could be searched.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from difytui.tui.widgets import raw_events
from difytui.tui.widgets.raw_events import RawEvents

from .conftest import ask, console, open_app, run_done, type_text, wait_until

SIZE = (120, 36)


def log_width(raw: RawEvents) -> int:
    return raw.log_view.scrollable_content_region.width


def shown_text(raw: RawEvents) -> str:
    """The log's lines joined back (wrapping only breaks lines, it drops nothing)."""
    return "".join(line.text.rstrip() for line in raw.lines)


async def test_events_wrap_at_the_pane_width_and_lose_nothing(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        await pilot.press("ctrl+t")
        pane.prompt.focus()
        await type_text(pilot, "hello")
        await pilot.press("enter")
        await run_done(pilot, pane)
        raw = pane.raw
        await wait_until(pilot, lambda: raw.lines, what="raw lines")
        width = log_width(raw)
        assert 20 < width < 60
        assert all(line.cell_length <= width for line in raw.lines)
        # Every character of the last event is on screen somewhere (ids in the middle included).
        end = next(e for e in reversed(raw.events) if e.get("event") == "message_end")
        assert end["task_id"] in shown_text(raw)


async def test_each_event_is_in_the_raw_log_once(sim):
    """The first event naming a run's ids was logged twice: once for its ids, once for its text."""
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await ask(pilot, app, "support-bot", "hello")
        events = [e for e in pane.raw.events if "event" in e]
        assert events and events[0].get("task_id")  # the first event does name the task
        assert len({id(e) for e in events}) == len(events)


class Host(App[None]):
    CSS = "RawEvents { width: 50; height: 1fr; } RawLog { height: 1fr; overflow-y: scroll; }"

    def compose(self) -> ComposeResult:
        yield RawEvents(id="raw")


async def test_lines_wrap_again_when_the_pane_is_resized():
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        raw = app.query_one(RawEvents)
        await pilot.pause()
        for i in range(3):
            raw.record({"event": "message", "answer": "x" * 120, "n": i})
        await pilot.pause()
        narrow = log_width(raw)
        assert all(line.cell_length <= narrow for line in raw.lines)
        raw.styles.width = 70
        await wait_until(pilot, lambda: log_width(raw) > narrow, what="resize")
        await wait_until(pilot, lambda: max(line.cell_length for line in raw.lines) > narrow, what="rewrap")
        assert all(line.cell_length <= log_width(raw) for line in raw.lines)
        assert shown_text(raw).count('"n":') == 3


async def test_server_text_is_shown_literally():
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        raw = app.query_one(RawEvents)
        await pilot.pause()
        raw.record({"answer": "[bold]loud[/bold] [@click=app.quit]x[/] \x1b[31mred"})
        await pilot.pause()
        text = shown_text(raw)
        assert "[bold]loud[/bold]" in text and "[@click=app.quit]x[/]" in text
        assert "\x1b" not in text


async def test_search_finds_an_event_by_name_and_by_value_and_escape_closes_it():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        raw = app.query_one(RawEvents)
        await pilot.pause()
        for i in range(40):
            raw.record({"event": "message", "answer": f"token {i}"})
        raw.record({"event": "message_end", "id": "needle-42"})
        for i in range(40):
            raw.record({"event": "ping", "n": i})
        await pilot.pause()
        raw.log_view.focus()
        await pilot.press("home")
        await wait_until(pilot, lambda: raw.log_view.scroll_y == 0, what="the top")
        await pilot.press("slash")
        assert app.focused is raw.query_one("#raw-search")
        await type_text(pilot, "needle-42")
        await pilot.pause()
        events = list(raw.events)
        assert raw.find("needle-42") == events.index({"event": "message_end", "id": "needle-42"})
        log = raw.log_view
        # The match is on screen, and marked.
        assert log.scroll_y <= min(log.marked) - log.first_line < log.scroll_y + log.size.height
        assert "1 of 1" in str(raw.border_subtitle)
        # Enter goes on to the next match of a name that occurs many times.
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "ping")
        first = raw._found
        await pilot.press("enter")
        await wait_until(pilot, lambda: raw._found == first + 1, what="the next match")
        assert "2 of 40" in str(raw.border_subtitle)
        await pilot.press("escape")
        assert app.focused is log and not raw.query_one("#raw-search").display
        assert not log.marked


async def test_ctrl_f_opens_the_search_from_the_log():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        raw = app.query_one(RawEvents)
        raw.log_view.focus()
        await pilot.press("ctrl+f")
        assert app.focused is raw.query_one("#raw-search")


async def test_events_that_fall_off_take_their_lines_with_them(monkeypatch):
    monkeypatch.setattr(raw_events, "MAX_EVENTS", 4)
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        raw = app.query_one(RawEvents)
        await pilot.pause()
        for i in range(7):
            raw.record({"n": i, "pad": "y" * 60})  # two lines each at this width
        assert [e["n"] for e in raw.events] == [3, 4, 5, 6]
        assert shown_text(raw).count('"n":') == 4 and '"n":3' in shown_text(raw)
        assert raw.find('"n":5') == 2
        assert '"n":5' in "".join(
            raw.lines[i - raw.log_view.first_line].text.rstrip() for i in raw.log_view.marked
        )
