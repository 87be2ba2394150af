"""Keys as a newcomer meets them (issue 10): the bytes a terminal really sends, keys that reach the
app filter from a text field, run keys that mean the open app, suggestions from the keyboard, and
where focus lands when an app opens."""

from __future__ import annotations

import sys
from typing import Any

from textual import events

from .conftest import SIZE, apps_loaded, console, open_app, requests_to, run_done, type_text, wait_until


def terminal_keys(app: Any, raw: str) -> list[events.Key]:
    """``raw`` as the console's driver parses it in a real terminal.

    The parser is the one the driver module builds in its input thread; the end of input flushes a
    lone ESC sequence the way the escape delay's timeout does in a terminal (send_sequence)."""
    driver_module = sys.modules[app.get_driver_class().__module__]
    parser = driver_module.XTermParser()
    keys = [*parser.feed(raw), *parser.feed("")]
    return [key for key in keys if isinstance(key, events.Key)]


async def send_terminal_keys(pilot: Any, raw: str) -> list[str]:
    app = pilot.app
    keys = terminal_keys(app, raw)
    for key in keys:
        app._driver.send_message(key)  # what the driver's input thread does with each parsed key
        await pilot.pause()
    return [key.key for key in keys]


def footer_keys(app: Any) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [key.key for key in app.query(FooterKey)]


async def test_alt_enter_as_a_terminal_sends_it_adds_a_line(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "first")
        # tmux M-Enter and xterm's alt+enter (ESC CR), alt+ctrl+j (ESC LF), ctrl+j (LF), and the
        # kitty keyboard protocol's alt+enter and shift+enter.
        for raw in ("\x1b\r", "\x1b\n", "\n", "\x1b[13;3u", "\x1b[13;2u"):
            await send_terminal_keys(pilot, raw)
        assert pane.prompt.text == "first" + "\n" * 5
        assert not requests_to(sim, "/chat-messages")
        await send_terminal_keys(pilot, "\r")  # a plain Enter sends
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == ["first"]


async def test_a_key_reaches_the_app_filter_from_a_text_field(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "a/b")
        assert pane.prompt.text == "a/b"  # in a text field "/" is a character
        assert "ctrl+l" in footer_keys(app)
        assert "slash" not in footer_keys(app)
        await pilot.press("ctrl+l")
        assert app.focused is app.query_one("#app-filter")
        await type_text(pilot, "copy")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_pane and app.current_pane.item.id == "copywriter")
        assert pane.prompt.text == "a/b"


async def test_slash_filters_when_focus_is_not_in_a_text_field(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        pane.query_one("#run").focus()
        await pilot.press("slash")
        assert app.focused is app.query_one("#app-filter")


async def test_ctrl_r_in_the_app_list_runs_the_open_app_not_the_highlighted_one(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.text = "from the list"
        await pilot.press("escape")  # back to the app list
        options = app.query_one("#app-options")
        assert app.focused is options
        options.highlighted = options.get_option_index("copywriter")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == ["from the list"]
        assert app.current_pane is pane
        assert "copywriter" not in {p.item.id for p in app.panes.values()}


async def test_the_palettes_run_entry_from_the_app_list_runs_the_open_app(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.text = "from the palette"
        await pilot.press("escape")
        options = app.query_one("#app-options")
        options.highlighted = options.get_option_index("copywriter")
        await pilot.press("ctrl+p")
        await type_text(pilot, "Run / send")
        await pilot.press("enter")
        await run_done(pilot, pane)
        await wait_until(pilot, lambda: requests_to(sim, "/chat-messages"), what="the message sent")
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == ["from the palette"]
        assert app.current_pane is pane


async def test_ctrl_r_with_no_app_open_says_so(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not app.panes
        assert not requests_to(sim, "/chat-messages") and not requests_to(sim, "/workflows/run")


async def test_suggested_questions_are_picked_from_the_keyboard_and_go_once_the_chat_moves_on(sim):
    from difytui.tui.widgets.chat_pane import SuggestedQuestion

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        questions = await wait_until(pilot, lambda: list(pane.query(SuggestedQuestion)), what="suggestions")
        assert all(q.can_focus for q in questions)
        pane.prompt.focus()
        await type_text(pilot, "draft")
        # alt+2 as a terminal sends it (ESC 2), from inside the prompt.
        assert await send_terminal_keys(pilot, "\x1b2") == ["alt+2"]
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == [questions[1].question]
        assert pane.prompt.text == "draft"  # the draft stays
        assert not pane.query(SuggestedQuestion)  # the conversation moved on


async def test_a_focused_suggestion_is_sent_with_enter(sim):
    from difytui.tui.widgets.chat_pane import SuggestedQuestion

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        questions = await wait_until(pilot, lambda: list(pane.query(SuggestedQuestion)), what="suggestions")
        questions[0].focus()
        await pilot.press("enter")
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == [questions[0].question]
        assert not pane.query(SuggestedQuestion)
        assert app.focused is pane.prompt  # not lost with the suggestion it was on


async def test_a_chat_with_its_required_inputs_filled_opens_on_the_prompt(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")  # Product has a default
        await wait_until(pilot, lambda: app.focused is not None, what="focus")
        assert app.focused is pane.prompt
        await type_text(pilot, "hello")
        assert pane.prompt.text == "hello"


async def test_a_chat_missing_a_required_input_opens_on_that_field(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "trip-planner")  # City is required and empty
        await wait_until(pilot, lambda: app.focused is not None, what="focus")
        city = next(row for row in pane.form.rows if row.field.variable == "city")
        assert app.focused is city.control
