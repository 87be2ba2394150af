"""End-to-end pilot tests: the console driven from the keyboard against the simulator on loopback."""

from __future__ import annotations

import asyncio
import socket

from textual.widgets import Select

from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole
from difytui.tui.widgets.chat_pane import ChatPane
from difytui.tui.widgets.completion_pane import CompletionPane
from difytui.tui.widgets.line_piece import LinePiece, MarkdownLines
from difytui.tui.widgets.response_log import AnswerView, Notice
from difytui.tui.widgets.workflow_pane import OutputsView, WorkflowPane

from .conftest import (
    SIZE,
    apps_loaded,
    console,
    open_app,
    requests_to,
    run_done,
    type_text,
    wait_until,
    workspace_for,
)


def answers(pane) -> list[AnswerView]:
    return list(pane.log_view.query(AnswerView))


def notices(pane, variant: str | None = None) -> list[str]:
    return [n.text for n in pane.log_view.query(Notice) if variant is None or n.has_class(f"-{variant}")]


# -- app list ---------------------------------------------------------------------------------------


async def test_first_frame_uses_cached_apps_then_refreshes(sim):
    store = Store()
    ws = workspace_for(sim)
    store.set_cached_apps(workspace_key(ws), [{"id": "support-bot", "name": "Cached Bot", "mode": "chat"}])
    app = DifyConsole(ws, store=store)
    async with app.run_test(size=SIZE) as pilot:
        # First frame: from the cache (no network yet), other apps by id.
        assert app.app_list.apps["support-bot"].name in ("Cached Bot", "Support Bot")
        await wait_until(pilot, lambda: app.app_list.apps["support-bot"].name == "Support Bot")
        assert app.app_list.apps["report-builder"].mode == "workflow"
    # The refreshed list is cached for the next start.
    cached = {a["id"]: a for a in Store().cached_apps(workspace_key(ws))}
    assert cached["copywriter"]["mode"] == "completion"


async def test_filter_groups_and_enter_opens_with_focus_in_first_field(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, app)
        options = app.query_one("#app-options")

        def shown() -> list[str]:
            return [options.get_option_at_index(i).id for i in range(options.option_count)]

        assert shown() == [
            "group:chat",
            "support-bot",
            "travel-agent",
            "trip-planner",
            "grader",
            "group:workflow",
            "report-builder",
            "approval",
            "group:completion",
            "copywriter",
        ]
        await pilot.press("slash")
        await type_text(pilot, "report")
        assert shown() == ["group:workflow", "report-builder"]
        await pilot.press("enter")
        pane = await wait_until(pilot, lambda: app.current_pane)
        await wait_until(pilot, lambda: pane.form is not None)
        await pilot.pause()
        assert isinstance(pane, WorkflowPane) and pane.item.id == "report-builder"
        # Focus lands in the first form field (Topic); the filter is cleared, the app stays highlighted.
        assert app.focused is pane.form.rows[0].control
        assert len(shown()) == 10 and app.app_list.highlighted_app == "report-builder"


async def test_app_without_inputs_focuses_prompt(sim, monkeypatch):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        # support-bot's only required field (a select) has its default: the prompt has the focus,
        # and so it has in an app with no fields.
        assert app.focused is pane.prompt
        pane.form.fields = []
        for row in pane.form.rows:
            await row.remove()
        assert pane.focus_target() is pane.prompt


# -- chat -------------------------------------------------------------------------------------------


async def test_chat_streams_follow_up_keeps_conversation_and_inputs_new_conversation(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        assert isinstance(pane, ChatPane)
        # Opening statement and suggested questions come first.
        assert "support bot" in pane.log_view.query_one(".opening", MarkdownLines).source
        pane.form.rows[1].control.focus()  # "Your name"
        await type_text(pilot, "Ada")
        pane.prompt.focus()
        await type_text(pilot, "hello there")
        await pilot.press("enter")
        await run_done(pilot, pane)
        first = answers(pane)[-1]
        assert first.status == "done" and "Re: hello there" in first.text
        assert first.last_piece is not None and first.last_piece.source == first.text  # one piece
        conversation = pane.conversation_id
        assert conversation and conversation in str(pane.query_one("#conversation").render())
        assert pane.prompt.text == ""

        await type_text(pilot, "and again")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        sent = requests_to(sim, "/chat-messages")
        assert [r.json.get("conversation_id") for r in sent] == [None, conversation]
        expected_inputs = {"product": "difytui", "customer_name": "Ada"}
        assert sent[1].json["inputs"] == sent[0].json["inputs"] == expected_inputs
        assert "turn 2" in answers(pane)[-1].text

        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not answers(pane))
        assert pane.conversation_id is None
        await type_text(pilot, "fresh start")
        await pilot.press("enter")
        await run_done(pilot, pane)
        third = requests_to(sim, "/chat-messages")[-1].json
        assert "conversation_id" not in third
        assert pane.conversation_id not in (None, conversation)


async def test_stop_mid_stream_keeps_partial_answer_and_prompt(slow_sim):
    sim = slow_sim
    app = console(sim)
    # Hold the stop request back, so Dify keeps generating after Escape until the test lets it go.
    stop_sent = asyncio.Event()
    real_stop = app.client.app.stop

    async def held_stop(*args):
        await stop_sent.wait()
        return await real_stop(*args)

    app.client.app.stop = held_stop
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "tell me everything")
        await pilot.press("enter")
        answer = await wait_until(pilot, lambda: answers(pane) and len(answers(pane)[-1].text) > 20)
        answer = answers(pane)[-1]
        task_id = await wait_until(pilot, lambda: pane.active and pane.active.task_id)
        assert task_id in sim.running_tasks  # Dify is still generating when Escape comes
        await pilot.press("escape")
        await wait_until(pilot, lambda: answer.rendered)
        partial = answer.text
        events_at_stop = len(pane.raw.events)
        assert answer.status == "stopped" and partial
        assert "stopped" in str(answer.status_line.render())
        # On screen: one piece holding exactly what had arrived.
        assert [piece.source for piece in answer.query(LinePiece)] == [partial]
        # What the user typed is back in the prompt.
        assert pane.prompt.text == "tell me everything"
        # Dify was not asked to stop yet, but the stream is closed: the simulator sees the client
        # gone (an open stream would keep it generating to the end), and nothing more arrived.
        await wait_until(pilot, lambda: task_id not in sim.running_tasks)
        assert not requests_to(sim, f"/chat-messages/{task_id}/stop")
        await pilot.pause()
        assert len(pane.raw.events) == events_at_stop
        assert [piece.source for piece in answer.query(LinePiece)] == [partial]
        # The stop endpoint is called with the task id.
        stop_sent.set()
        await wait_until(pilot, lambda: requests_to(sim, f"/chat-messages/{task_id}/stop"))
        # The pane is usable again.
        await pilot.press("enter")
        sim.token_delay = 0
        await run_done(pilot, pane)
        assert answers(pane)[-1].status == "done"


async def test_chatflow_timeline_and_gone_conversation_notice(sim):
    store = Store()
    ws = workspace_for(sim)
    stale = "5f1e2b9a-0000-4000-8000-000000000000"
    store.set_conversation(workspace_key(ws), "trip-planner", stale)
    app = DifyConsole(ws, store=store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "trip-planner")
        assert app.focused is pane.form.rows[0].control
        # Dify does not know it (its history says 404): said at once, and the next message starts
        # a new conversation in the open rather than in silence (a chatflow would start one anyway)
        await wait_until(pilot, lambda: stale in " ".join(notices(pane, "warning")), what="gone notice")
        assert "new conversation" in " ".join(notices(pane, "warning"))
        assert pane.conversation_id is None
        await type_text(pilot, "Lyon")
        pane.prompt.focus()
        await type_text(pilot, "what to eat")
        await pilot.press("enter")
        await run_done(pilot, pane)
        assert not requests_to(sim, "/chat-messages")[-1].json.get("conversation_id")
        assert pane.conversation_id
        timeline = pane.log_view.query_one(".chat-timeline")
        assert "✓" in timeline.render_text().plain


async def test_agent_thoughts_are_shown(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "travel-agent")
        pane.prompt.focus()
        await type_text(pilot, "Plan a weekend in Kyoto")
        await pilot.press("enter")
        await run_done(pilot, pane)
        step = pane.log_view.query_one(".agent-step")
        assert "🔧" in str(step.title)
        assert answers(pane)[-1].text


# -- workflow and completion ------------------------------------------------------------------------


async def test_workflow_run_timeline_and_outputs(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        await type_text(pilot, "Streaming in terminals")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        timeline = pane.log_view.query_one(".timeline").render_text().plain
        for title in ("Start", "Plan sections", "Draft each section", "#1 Draft section", "End"):
            assert title in timeline
        assert "✗" not in timeline and "running" not in timeline
        assert "64 tok" in timeline
        outputs = pane.log_view.query_one(OutputsView)
        assert set(outputs.outputs) == {"report", "summary"}
        assert outputs.query(MarkdownLines) and outputs.query(".output-json")
        body = requests_to(sim, "/workflows/run")[-1].json
        assert body["inputs"]["topic"] == "Streaming in terminals"
        assert body["inputs"]["sections"] == 3 and body["inputs"]["include_code"] is True
        assert "Streaming in terminals" in pane.last_answer


async def test_completion_streams_text(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        assert isinstance(pane, CompletionPane)
        await type_text(pilot, "Teapot")
        await pilot.press("tab")
        await type_text(pilot, "A teapot that sings")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        assert "Teapot" in answers(pane)[-1].text
        assert "first event" in str(pane.stats.render())


async def test_form_validation_is_inline_and_nothing_is_sent(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        rows = {r.field.variable: r for r in pane.form.rows}
        rows["metadata"].control.text = "[1, 2]"
        rows["attachments"].control.value = "a.png, b.png, c.png, d.png"
        rows["topic"].control.value = "x" * 81
        audience = rows["audience"].control
        assert isinstance(audience, Select)
        audience.clear()
        await pilot.press("ctrl+r")
        await pilot.pause()
        errors = {v: str(r.query_one(".field-error").render()) for v, r in rows.items()}
        assert "Topic must be at most 80 characters" in errors["topic"]
        assert "Audience is required" in errors["audience"]
        assert "Metadata must be a JSON object" in errors["metadata"]
        assert "Attachments can take at most 3 files" in errors["attachments"]
        assert not requests_to(sim, "/workflows/run")
        assert app.focused is rows["topic"].control


async def test_inputs_and_conversation_survive_a_restart(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.form.rows[1].control.focus()  # "Your name"
        await type_text(pilot, "Grace")
        pane.prompt.focus()
        await type_text(pilot, "first visit")
        await pilot.press("enter")
        await run_done(pilot, pane)
        conversation = pane.conversation_id

    again = console(sim)  # a new process would open the same state database
    async with again.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, again, "support-bot")
        assert pane.conversation_id == conversation
        assert pane.form.rows[1].control.value == "Grace"
        # The last turns of the conversation are shown again.
        await wait_until(pilot, lambda: pane.log_view.query(".history-sep"))
        pane.prompt.focus()
        await type_text(pilot, "back again")
        await pilot.press("enter")
        await run_done(pilot, pane)
        body = requests_to(sim, "/chat-messages")[-1].json
        assert body["conversation_id"] == conversation
        assert body["inputs"]["customer_name"] == "Grace"
        assert "turn 2" in answers(pane)[-1].text


# -- errors -----------------------------------------------------------------------------------------


async def test_api_error_is_a_notice_and_the_run_can_be_retried(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        sim.add_fault(
            "/v1/chat-messages",
            "status",
            status=401,
            body='{"code":"unauthorized","message":"Access token is invalid","status":401}',
        )
        pane.prompt.focus()
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await run_done(pilot, pane)
        error = " ".join(notices(pane, "error"))
        assert "401 unauthorized: Access token is invalid" in error
        assert "check the app's API key" in error
        assert "Traceback" not in error
        assert pane.prompt.text == "hi"  # what the user typed is kept
        await pilot.press("ctrl+r")  # retry
        await run_done(pilot, pane)
        assert answers(pane)[-1].status == "done"


async def test_stream_cut_keeps_partial_answer(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        sim.add_fault("/v1/chat-messages", "cut", after=5)
        pane.prompt.focus()
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await run_done(pilot, pane)
        answer = answers(pane)[-1]
        assert answer.status == "failed" and answer.text
        assert notices(pane, "error")


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_dead_server_keeps_the_console_usable(sim):
    dead = _dead_url()
    ws = workspace_for(sim, base_url=dead)
    store = Store()
    store.set_cached_apps(workspace_key(ws), [{"id": "support-bot", "name": "Support Bot", "mode": "chat"}])
    app = DifyConsole(ws, store=store)
    async with app.run_test(size=SIZE) as pilot:
        status_line = app.query_one("#apps-status")
        await wait_until(
            pilot, lambda: "cannot" in str(status_line.render()) or "unavailable" in str(status_line.render())
        )
        assert app.app_list.apps["support-bot"].mode == "chat"  # the cached entry stays usable
        await pilot.press("enter")
        pane = await wait_until(pilot, lambda: app.current_pane)
        status = await wait_until(
            pilot, lambda: "could not load" in str(pane.query_one("#form-status").render()) and pane
        )
        assert "ctrl+r" in str(status.query_one("#form-status").render())
        # The server comes back on the same address: the console still answers keys and works.
        port = int(dead.rsplit(":", 1)[1].split("/")[0])
        from difytui.sim import Simulator

        with Simulator(port=port) as revived:
            await pilot.press("ctrl+r")  # retries loading the form
            await wait_until(pilot, lambda: pane.form is not None, what="form after retry")
            pane.prompt.focus()
            await type_text(pilot, "are you back")
            await pilot.press("enter")
            await run_done(pilot, pane)
            assert answers(pane)[-1].status == "done"
            assert requests_to(revived, "/chat-messages")


# -- inspect, copy, keys, help ------------------------------------------------------------------------


async def test_raw_events_toggle_and_stats(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        await type_text(pilot, "Kettle")
        await pilot.press("tab")
        await type_text(pilot, "boils")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        assert not pane.raw.display
        await pilot.press("ctrl+t")
        await pilot.pause(0.1)
        assert pane.raw.display
        kinds = [e.get("event") for e in pane.raw.events if "event" in e]
        assert kinds[0] == "message" and kinds[-1] == "message_end"
        await wait_until(pilot, lambda: len(pane.raw.lines) >= len(kinds))
        stats = str(pane.stats.render())
        assert "tokens" in stats and "USD" in stats and "task" in stats
        await pilot.press("ctrl+t")
        assert not pane.raw.display


async def test_copy_last_answer(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "copy me")
        await pilot.press("enter")
        await run_done(pilot, pane)
        await pilot.press("ctrl+y")
        assert app.clipboard == answers(pane)[-1].text
        assert any("Copied" in str(n.message) for n in app._notifications)


async def test_keymap_override_from_config(sim):
    app = console(sim, keymap={"app.run": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        await type_text(pilot, "Lamp")
        await pilot.press("tab")
        await type_text(pilot, "bright")
        await pilot.press("f5")
        await run_done(pilot, pane)
        assert requests_to(sim, "/completion-messages")


async def test_help_screen_lists_binding_ids(sim):
    app = console(sim, keymap={"app.run": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = " ".join(str(cell) for column in app.screen.table.columns for cell in column.cells)
        ids = ("app.run", "app.stop", "chat.new", "log.raw", "answer.copy", "apps.filter", "help", "quit")
        for binding_id in ids:
            assert binding_id in text
        assert "f5" in text
        await pilot.press("escape")
        assert not app.screen.query("#help-body")


async def test_every_binding_has_an_id_and_description():
    from difytui.tui.widgets.prompt import Prompt

    for binding in [*DifyConsole.BINDINGS, *Prompt.BINDINGS]:
        assert binding.id and binding.description


async def test_command_palette_offers_main_actions(sim):
    from difytui.tui.commands import DifyCommands

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, "support-bot")  # chats have the conversation entries
        provider = DifyCommands(app.screen)
        names = [text for text, _cb, _help in provider._commands()]
        wanted_names = (
            "New conversation",
            "Toggle raw events",
            "Copy last answer",
            "Switch app: Report Builder",
        )
        for wanted in wanted_names:
            assert any(n.startswith(wanted) for n in names), wanted
        hits = [hit async for hit in provider.search("new conv")]
        assert hits and hits[0].text == "New conversation"


def test_bad_config_exits_2_with_one_line_before_any_screen(tmp_path, capsys):
    from difytui.tui import run

    bad = tmp_path / "config.toml"
    bad.write_text("[workspaces.x]\nbase_url = 'ftp://nope'\n")
    assert run(config_path=str(bad)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "base_url" in err and "Traceback" not in err
