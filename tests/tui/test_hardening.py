"""Pilot tests for what a review found: server text as markup, worker errors, lost streamed text,
runs left running on exit, stop races, the import result, suggestions over drafts, state writes."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Checkbox, Select

from difytui.store import Store
from difytui.tui import runner
from difytui.tui.app import DifyConsole
from difytui.tui.scripted_stream import ScriptedStream
from difytui.tui.widgets import raw_events
from difytui.tui.widgets.breaks import HEAD, BreakScanner
from difytui.tui.widgets.chat_pane import SuggestedQuestion
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import AnswerView, Notice

from .conftest import (
    SIZE,
    apps_loaded,
    console,
    open_app,
    requests_to,
    run_done,
    screen_text,
    type_text,
    wait_until,
    workspace_for,
)

MARKUP_OPTION = "[b]bold[/b] [@click=app.bell]x[/]"
BROKEN_OPTION = "[/x] closes nothing"
CHECKBOX_LABEL = "I agree [/x] [@click=app.quit]"


def notices(pane: Any) -> str:
    return "\n".join(n.text for n in pane.log_view.query(Notice))


def gate_stream(app: DifyConsole, gate: asyncio.Event) -> None:
    """Dify is slow to answer: the chat stream's request goes out only once ``gate`` is set."""
    chat = app.client.app.chat
    real = chat.invoke

    def invoke(*args: Any, **kwargs: Any) -> Any:
        stream = real(*args, **kwargs)

        async def gated():
            try:
                await gate.wait()
                async for event in stream:
                    yield event
            finally:
                await stream.aclose()

        return ScriptedStream(gated())

    chat.invoke = invoke


async def send(pilot: Any, pane: Any, text: str) -> None:
    pane.prompt.focus()
    await type_text(pilot, text)
    await pilot.press("enter")


# -- 1. server text is never markup -----------------------------------------------------------------


async def test_select_options_and_checkbox_label_with_markup_are_shown_literally(sim):
    select = {
        "label": "Pick",
        "variable": "pick",
        "required": True,
        "options": [MARKUP_OPTION, BROKEN_OPTION],
    }
    checkbox = {"label": CHECKBOX_LABEL, "variable": "agree", "required": False}
    parameters = {"user_input_form": [{"select": select}, {"checkbox": checkbox}]}
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        sim.add_fault(
            "/v1/parameters",
            "status",
            status=200,
            body=json.dumps(parameters),
            content_type="application/json",
            dify_headers=True,
        )
        pane = await open_app(pilot, app, "support-bot")
        select = pane.form.rows[0].control
        assert isinstance(select, Select) and isinstance(pane.form.rows[1].control, Checkbox)
        assert CHECKBOX_LABEL in screen_text(app)
        select.focus()
        await pilot.press("enter")  # open the overlay: every option is rendered
        await wait_until(pilot, lambda: select.expanded, what="overlay")
        await pilot.pause()
        shown = screen_text(app)
        assert MARKUP_OPTION in shown and BROKEN_OPTION in shown
        await pilot.press("down", "enter")  # choose the markup option: the control shows it too
        await wait_until(pilot, lambda: select.value == MARKUP_OPTION, what="selection")
        await pilot.pause()
        assert MARKUP_OPTION in screen_text(app)
        assert app.is_running


# -- 2. worker errors become notices -----------------------------------------------------------------


async def test_unexpected_error_refreshing_apps_is_a_status_not_a_crash(sim):
    app = console(sim)

    async def odd_apps() -> Any:
        raise AttributeError("'list' object has no attribute 'get'")

    app.client.apps = odd_apps
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one("#apps-status")
        await wait_until(pilot, lambda: "cannot refresh" in str(status.render()), what="status")
        assert "unexpected error (AttributeError)" in str(status.render())
        assert app.is_running


async def test_a_worker_that_raises_becomes_a_notice(sim, monkeypatch):
    async def broken(client: Any, post: Any) -> None:
        raise UnicodeEncodeError("ascii", "caf\u00e9", 3, 4, "ordinal not in range(128)")

    monkeypatch.setattr(runner, "refresh_apps", broken)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._notifications, what="notice")
        message = str(next(iter(app._notifications)).message)
        assert "app list refresh failed" in message and "UnicodeEncodeError" in message
        assert app.is_running


# -- 3. streamed text stays on screen while it streams ------------------------------------------------


async def test_every_completed_paragraph_is_on_screen_before_the_answer_ends(sim):
    thresholds = gc.get_threshold()
    app = console(sim)
    release = asyncio.Event()
    paragraphs = [f"Paragraph {i} says something worth reading." for i in range(40)]

    def invoke(*args: Any, **kwargs: Any) -> Any:
        async def stream():
            ids = {"task_id": "t-1", "conversation_id": "c-1", "message_id": "m-1"}
            for text in paragraphs:
                for piece in (text[:20], text[20:], "\n\n"):
                    yield {"event": "message", "answer": piece, **ids}
                await asyncio.sleep(0.01)  # several flushes, so pieces get sealed mid-stream
            await release.wait()
            yield {"event": "message_end", "metadata": {}, **ids}

        return ScriptedStream(stream())

    app.client.app.chat.invoke = invoke
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        await send(pilot, pane, "long answer please")
        answer = await wait_until(pilot, lambda: pane.log_view.query(AnswerView).first(), what="answer")

        def shown() -> str:
            return "".join(piece.source for piece in answer.query(LinePiece))

        await wait_until(pilot, lambda: paragraphs[-1] in answer.text, what="all text received")
        await wait_until(pilot, lambda: all(p in shown() for p in paragraphs), what="all paragraphs shown")
        assert answer.pieces  # the test did cross a seal
        assert not answer.finished
        assert gc.get_freeze_count() > 0  # the app built before the stream is not scanned again
    # Closing mid-stream leaves the collector as it was: nothing frozen.
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_scanning_a_long_line_reads_only_new_text():
    scanner = BreakScanner()
    for _ in range(2000):
        assert scanner.feed('{"key": "value", "list": [1, 2, 3]}') == []
    assert scanner._head == '{"key": "value",'[:HEAD]
    # The head of the unfinished line still decides: a fence opened across pieces is followed.
    text = "`py\ncode\n\nmore\n```\n\nafter"
    assert scanner.feed("\n  ``") == [] and scanner.feed(text) == [text.index("\n\nafter") + 2]


# -- 4. leaving stops the runs and restores the collector ----------------------------------------------


async def test_switching_workspace_mid_stream_stops_the_run_and_restores_gc(stalled_sim):
    sim = stalled_sim
    thresholds = gc.get_threshold()
    app = console(sim, workspaces=["demo", "other"])
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        await send(pilot, pane, "tell me everything")
        task_id = await wait_until(pilot, lambda: pane.active and pane.active.task_id, what="task id")
        assert gc.get_freeze_count() > 0  # the app built before the stream is not scanned again
        app.switch_workspace("other")
        await wait_until(pilot, lambda: requests_to(sim, f"/chat-messages/{task_id}/stop"), what="stop")
    assert app.return_value == ("workspace", "other")
    assert task_id in sim.stopped_tasks
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


# -- 5. Escape while the run is being set up -------------------------------------------------------------


async def test_a_console_that_never_streamed_leaves_nothing_frozen(sim):
    # Its first frame freezes what start-up made; a later test (or console) must start clean.
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


async def test_escape_while_the_run_is_set_up_sends_nothing(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        original = pane.before_run

        async def before_run_then_escape(run: Any) -> None:
            await original(run)
            pane.action_stop()  # Escape, handled while start_run awaits before_run

        pane.before_run = before_run_then_escape
        await send(pilot, pane, "never mind")
        await wait_until(pilot, lambda: "before the request was sent" in notices(pane), what="stopped")
        assert not [w for w in app.workers if w.group == "run" and not w.is_finished]
        pane.before_run = original
        await pilot.press("enter")  # the message is back in the prompt: send it for real
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == ["never mind"]


# -- 6. Escape before Dify names the task ----------------------------------------------------------------


async def test_escape_before_the_task_id_stops_the_task_once_it_is_named(stalled_sim):
    sim = stalled_sim
    app = console(sim)
    gate = asyncio.Event()
    gate_stream(app, gate)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        await send(pilot, pane, "slow to start")
        await wait_until(pilot, lambda: pane.active and pane.active.worker, what="run")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "as soon as Dify names the task" in notices(pane), what="notice")
        assert pane.active is None and pane.prompt.text == "slow to start"
        gate.set()  # Dify answers: its first event names the task
        stop = await wait_until(pilot, lambda: [r for r in sim.requests if r.path.endswith("/stop")])
        task_id = stop[0].path.split("/")[-2]
        assert task_id in sim.stopped_tasks
        await wait_until(pilot, lambda: f"Asked Dify to stop task {task_id}" in notices(pane))


# -- 7. the import result is shown before anything reopens ------------------------------------------------


async def test_import_result_is_shown_and_reopens_only_when_confirmed(sim, tmp_path):
    from difytui.tui.screens.import_console import ImportConsoleScreen, ImportOutcome, ImportResultScreen

    lines = [
        "copywriter: not imported: the app has no API key",
        "store Bot's key (app-…) so that `pass bot` prints it",
    ]
    outcome = ImportOutcome(tmp_path / "config.toml", "imported", lines)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        for choice in ("escape", "enter"):
            app.action_import_console()
            screen = await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, ImportConsoleScreen) and app.screen.query("Input") and app.screen
                ),
                what="import screen",
            )
            await pilot.pause()
            screen.dismiss(outcome)
            await wait_until(pilot, lambda: isinstance(app.screen, ImportResultScreen), what="result")
            await pilot.pause()
            shown = screen_text(app)
            assert all(line in shown for line in lines)
            assert app.return_value is None  # nothing reopens before the user has read it
            await pilot.press(choice)
            if choice == "escape":
                await wait_until(pilot, lambda: not isinstance(app.screen, ImportResultScreen))
                assert app.return_value is None
        await wait_until(pilot, lambda: app.return_value is not None, what="exit")
    assert app.return_value == ("workspace", "imported", outcome.config_path)


# -- 8. a suggested question leaves the draft alone -----------------------------------------------------


async def test_suggested_question_keeps_the_drafted_prompt(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "my half written question")
        question = pane.log_view.query(SuggestedQuestion).first()
        question.press()
        await wait_until(pilot, lambda: requests_to(sim, "/chat-messages"), what="request")
        await run_done(pilot, pane)
        assert requests_to(sim, "/chat-messages")[-1].json["query"] == question.question
        assert pane.prompt.text == "my half written question"


# -- 9. raw events keep the newest, cheaply --------------------------------------------------------------


async def test_raw_events_keep_the_newest_in_a_bounded_deque(monkeypatch):
    monkeypatch.setattr(raw_events, "MAX_EVENTS", 5)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield raw_events.RawEvents(id="raw")

    async with Host().run_test(size=(80, 20)) as pilot:
        raw = pilot.app.query_one(raw_events.RawEvents)
        assert raw.events.maxlen == 5
        await pilot.pause()
        for i in range(8):
            raw.record({"n": i})
        assert [e["n"] for e in raw.events] == [3, 4, 5, 6, 7]
        assert len(raw.lines) == 5 and '"n":7' in raw.lines[-1].text
        raw.display = False
        await pilot.pause()
        for i in range(8, 11):
            raw.record({"n": i})
        raw.display = True
        await wait_until(pilot, lambda: '"n":10' in raw.lines[-1].text, what="flush on show")
        assert [e["n"] for e in raw.events] == [6, 7, 8, 9, 10]


# -- 11. state writes do not block the screen ------------------------------------------------------------


class BlockingWrites:
    """The store's write connection while another process holds the file: a write waits, inside
    the store's write lock, until the test releases it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.blocked = threading.Event()  # a write is waiting
        self.release = threading.Event()
        self.written = threading.Event()  # and it went through

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith(("INSERT", "DELETE")):
            self.blocked.set()
            # Not bounded by a clock (a loaded machine outlasted 10 s): the test always releases it,
            # and a UI thread stuck behind this write shows up as the test's own timeout.
            self.release.wait()
            cursor = self.conn.execute(sql, *args)
            self.written.set()
            return cursor
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


async def test_a_locked_state_database_does_not_stall_the_screen(sim, tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    app = DifyConsole(workspace_for(sim), store=store)
    store.set_inputs(app.ws_key, "report-builder", {"topic": "remembered topic"})
    writes = BlockingWrites(store._conn)
    store._conn = writes
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, writes.blocked.is_set, what="the app list write to wait")
            # Opening an app reads its last inputs on the UI thread while that write waits.
            pane = await open_app(pilot, app, "report-builder")
            assert pane.form.collect()[0]["topic"] == "remembered topic"
            assert not writes.written.is_set()  # the write is still waiting for the file
            writes.release.set()  # (before closing: the console finishes queued writes on exit)
    finally:
        writes.release.set()
    assert writes.written.is_set()  # and it was finished before the console closed
    store._conn = writes.conn
    assert store.cached_apps(app.ws_key)
