"""Server text is shown literally: Rich markup, ANSI/OSC sequences and control characters are inert."""

from __future__ import annotations

from rich.text import Text

from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole
from difytui.tui.safe_text import clean, json_text, literal, one_line
from difytui.tui.widgets.response_log import AnswerView, Notice

from .conftest import (
    SIZE,
    apps_loaded,
    open_app,
    requests_to,
    run_done,
    screen_text,
    wait_until,
    workspace_for,
)

HOSTILE = (
    "[bold]x[/bold] [link=https://evil.example]y[/link] \x1b[31mred\x1b[0m \x1b]52;c;cHdu\x07 \x9b2J end"
)


def test_clean_makes_controls_visible_and_inert():
    cleaned = clean(HOSTILE + "\r\n\x00\x7f\ttab")
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned and "\x00" not in cleaned
    assert "␛[31m" in cleaned and "␛]52;c;" in cleaned and "\\x9b2J" in cleaned
    assert "[bold]x[/bold]" in cleaned and "\n" in cleaned and "\ttab" in cleaned
    assert one_line("a\n  b\x1b") == "a b␛"
    text = literal("[red]not red[/red]")
    assert isinstance(text, Text) and text.plain == "[red]not red[/red]" and not text.spans
    assert "\\u001b" in json_text({"k": "\x1b[2J"}).plain


async def test_answer_full_of_markup_and_escapes_appears_literally(sim):
    app = DifyConsole(workspace_for(sim))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.text = HOSTILE
        pane.prompt.focus()
        await pilot.press("enter")
        await run_done(pilot, pane)
        assert requests_to(sim, "/chat-messages")[-1].json["query"] == HOSTILE  # sent as typed
        answer = list(pane.log_view.query(AnswerView))[-1]
        assert "[bold]x[/bold]" in answer.text and "[link=https://evil.example]y[/link]" in answer.text
        piece = answer.last_piece
        assert piece is not None and "\x1b" not in piece.source and "\x9b" not in piece.source
        shown = screen_text(app)
        assert "[bold]x[/bold]" in shown
        assert "␛[31mred␛[0m" in shown
        assert "␛]52;c;cHdu" in shown
        assert "\x1b]52" not in shown and "\x07" not in shown


async def test_app_names_and_errors_from_the_server_are_literal(sim):
    store = Store()
    ws = workspace_for(sim)
    evil_name = "[red]Evil[/red] \x1b]0;pwned\x07"
    store.set_cached_apps(workspace_key(ws), [{"id": "support-bot", "name": evil_name, "mode": "chat"}])
    sim.add_fault("/v1/info", "status", status=502, body="<html>bad gateway</html>")
    app = DifyConsole(ws, store=store)
    async with app.run_test(size=SIZE) as pilot:
        # The cached list is on screen once the first frames are painted (one pause is not always
        # enough on a loaded machine).
        cached_name = "[red]Evil[/red] ␛]0;pwned\\x07"
        await wait_until(pilot, lambda: cached_name in screen_text(app), what="the cached app name")
        await apps_loaded(pilot, app)
        pane = await open_app(pilot, app, "support-bot")
        sim.add_fault(
            "/v1/chat-messages",
            "status",
            status=400,
            body='{"code":"invalid_param","message":"[bold]boom[/bold] \\u001b[2J","status":400}',
        )
        pane.prompt.text = "hi"
        pane.prompt.focus()
        await pilot.press("enter")
        await run_done(pilot, pane)
        notice = await wait_until(
            pilot, lambda: [n for n in pane.log_view.query(Notice) if n.has_class("-error")]
        )
        assert "[bold]boom[/bold] ␛[2J" in notice[0].text
        assert "[bold]boom[/bold] ␛[2J" in screen_text(app)
