"""The conversation list (f2) and continuing a conversation from it (issue 11, deliverable 1).

Everything runs against the simulator over loopback. Long lists are seeded straight into its state
before the console starts, with its clock set, so "several messages in one second" is exact; every
read the console makes goes over HTTP, and the assertions read what the simulator recorded.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from difytui.client import Dify
from difytui.sim import Simulator
from difytui.sim.apps import ALL_APPS
from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole
from difytui.tui.screens.conversation_dialogs import ConfirmDelete, RenameDialog
from difytui.tui.screens.conversations import NOT_LISTED, ConversationsScreen
from difytui.tui.widgets.history_paging import START, HistoryAnswer
from difytui.tui.widgets.response_log import Notice, UserTurn

from .conftest import SIZE, console, open_app, requests_to, run_done, type_text, wait_until, workspace_for

CHAT = "support-bot"
USER = "tester"  # the console's user (conftest.workspace_for)
START_TIME = 1_795_996_000


def seed_conversations(sim: Simulator, count: int) -> list[str]:
    """``count`` conversations, two per second, each with one message; ids oldest first."""
    ids = []
    for n in range(count):
        now = START_TIME + n // 2
        sim.state.clock = lambda now=now: now
        conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, USER, f"question {n}", {"product": "difytui"})
        sim.state.add_message(conv, f"question {n}", {"product": "difytui"}).answer = f"answer {n}"
        ids.append(conv.id)
    return ids


def seed_messages(sim: Simulator, count: int) -> tuple[str, list[str]]:
    """One conversation of ``count`` messages in groups of 1 to 7 sharing a second (Dify's
    timestamps are whole seconds); its id and the queries, oldest first."""
    conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, USER, "m0", {"product": "Dify Cloud"})
    queries, second, n = [], START_TIME, 0
    while n < count:
        for _ in range(min(1 + second % 7, count - n)):
            sim.state.clock = lambda now=second: now
            sim.state.add_message(conv, f"m{n}", {}).answer = f"a{n}"
            queries.append(f"m{n}")
            n += 1
        second += 1
    return conv.id, queries


def chat(sim: Simulator, query: str, inputs: dict[str, Any]) -> str:
    """A conversation started by another client of the same user (the library, blocking)."""
    with Dify(base_url=sim.base_url, apps={CHAT: sim.api_keys[CHAT]}, user=USER) as dify:
        body = dify.app.chat.invoke(CHAT, query, inputs, response_mode="blocking")
    return str(body["conversation_id"])


async def open_list(pilot: Any, app: DifyConsole) -> ConversationsScreen:
    pane = app.current_pane
    assert pane is not None
    await pilot.press("f2")
    screen = await wait_until(
        pilot, lambda: app.screen if isinstance(app.screen, ConversationsScreen) else None, what="the list"
    )
    await wait_until(pilot, lambda: not screen.loading and screen.entries, what="the first page")
    return screen


def table_ids(screen: ConversationsScreen) -> list[str]:
    return [str(row.key.value) for row in screen.table.ordered_rows]


def history_queries(pane: Any) -> list[str]:
    return [w.text for w in pane.log_view.query(UserTurn)]


def notices(pane: Any, variant: str) -> str:
    return " ".join(n.text for n in pane.log_view.query(Notice) if n.has_class(f"-{variant}"))


async def history_shown(pilot: Any, pane: Any) -> None:
    await wait_until(pilot, lambda: pane.history_count and not pane.history_loading, what="history")
    await pilot.pause()


async def open_first_conversation(pilot: Any, app: DifyConsole) -> Any:
    """The chat app's pane, continuing the newest conversation of its list (its first page shown)."""
    pane = await open_app(pilot, app, CHAT)
    await open_list(pilot, app)
    await pilot.press("enter")
    await history_shown(pilot, pane)
    return pane


# -- open and continue -------------------------------------------------------------------------------


async def test_open_an_old_conversation_and_continue_it_with_its_inputs(sim):
    old = chat(sim, "where is my invoice?", {"product": "Self-hosted Dify", "customer_name": "Ada"})
    chat(sim, "newer question", {"product": "difytui", "customer_name": "Grace"})
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, CHAT)
        assert pane.conversation_id is None
        screen = await open_list(pilot, app)
        assert len(table_ids(screen)) == 2 and table_ids(screen)[1] == old  # newest first
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0], what="back to the pane")
        await history_shown(pilot, pane)
        assert pane.conversation_id == old
        assert history_queries(pane) == ["where is my invoice?"]
        assert [a.message_id for a in pane.log_view.query(HistoryAnswer)]
        # the conversation's inputs fill the form
        assert pane.form.rows[0].control.value == "Self-hosted Dify"
        assert pane.form.rows[1].control.value == "Ada"

        pane.prompt.focus()
        await type_text(pilot, "and the next one")
        await pilot.press("enter")
        await run_done(pilot, pane)
        screen = await open_list(pilot, app)  # its messages were all read: their count is known
        assert screen.entries[old].messages == 2 and screen.entries[old].name == "where is my invoice?"
    sent = requests_to(sim, "/chat-messages")[-1].json
    assert sent["conversation_id"] == old
    assert sent["inputs"]["product"] == "Self-hosted Dify" and sent["inputs"]["customer_name"] == "Ada"
    assert sent["query"] == "and the next one"
    assert pane.conversation_id == old


async def test_the_list_pages_past_100_conversations_as_the_cursor_nears_the_end(sim):
    ids = seed_conversations(sim, 130)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, CHAT)
        screen = await open_list(pilot, app)
        assert len(table_ids(screen)) == 50 and not screen.complete
        while not screen.complete:
            await pilot.press("ctrl+end")  # the cursor to the last row: the next page loads
            await wait_until(pilot, lambda: not screen.loading, what="a page")
        assert table_ids(screen) == ids[::-1]  # newest first, each once
        status = str(screen.query_one("#conv-status").render())
        assert "130 conversations on Dify" in status
    pages = [r for r in sim.requests if r.path == "/v1/conversations"]
    assert len(pages) == 3 and "last_id" in pages[-1].query


async def test_250_messages_scroll_back_to_the_start_none_twice_none_lost(sim):
    cid, queries = seed_messages(sim, 250)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_first_conversation(pilot, app)
        assert pane.conversation_id == cid
        second = {m.query: m.created_at for m in sim.state.conversations[cid].messages}
        assert second[history_queries(pane)[-1]] == second["m249"]  # the newest second at the bottom
        marker = pane._history_marker
        for _ in range(60):
            if START in str(marker.render()):
                break
            pane.log_view.scroll_home(animate=False)  # as the user scrolls up
            await pilot.pause()
            await wait_until(pilot, lambda: not pane.history_loading, what="an older page")
            await pilot.pause()
        assert START in str(marker.render())
        shown = history_queries(pane)
        assert len(shown) == len(set(shown)) == 250
        assert set(shown) == set(queries)
        # oldest at the top: in Dify's whole-second order (inside a second its order is arbitrary)
        assert [second[q] for q in shown] == sorted(second[q] for q in shown)
        assert len(pane.log_view.query(HistoryAnswer)) == 250
    pages = [r for r in sim.requests if r.path == "/v1/messages"]
    assert len(pages) >= 5 and all(r.query.get("conversation_id") == cid for r in pages)


async def test_page_up_from_the_prompt_loads_the_older_page(sim):
    cid, _queries = seed_messages(sim, 80)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_first_conversation(pilot, app)
        first = pane.history_count
        assert first < 80 and pane.history_more
        pane.prompt.focus()
        for _ in range(100):  # the user pages up until the top of what is shown
            if pane.history_count > first:
                break
            await pilot.press("pageup")
            await pilot.pause()
        await wait_until(pilot, lambda: pane.history_complete, what="the older page")
        assert pane.history_count == 80 and len(set(history_queries(pane))) == 80
        assert pane.conversation_id == cid


# -- rename, delete ----------------------------------------------------------------------------------


async def test_rename_typed_and_auto_generated(sim):
    cid = chat(sim, "first question", {"product": "difytui"})
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, CHAT)
        screen = await open_list(pilot, app)
        await pilot.press("r")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, RenameDialog) and app.screen)
        dialog.query_one(Input).value = ""
        await pilot.press("enter")  # empty: it says what to do, and stays
        assert app.screen is dialog
        await type_text(pilot, "Billing")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.entries[cid].name == "Billing", what="renamed")
        assert sim.state.conversations[cid].name == "Billing"
        assert "Billing" in str(screen.table.get_row(cid)[0])

        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameDialog))
        await pilot.press("ctrl+g")  # Dify's model names it: with none, the name stays (as Dify does)
        await wait_until(pilot, lambda: len(requests_to(sim, f"/conversations/{cid}/name")) == 2)
        assert requests_to(sim, f"/conversations/{cid}/name")[-1].json["auto_generate"] is True
        assert screen.entries[cid].name == "Billing"


async def test_delete_asks_first_and_the_pane_forgets_a_deleted_current_conversation(sim):
    keep = chat(sim, "keep me", {"product": "difytui"})
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, CHAT)
        pane.prompt.focus()
        await type_text(pilot, "delete me")
        await pilot.press("enter")
        await run_done(pilot, pane)
        current = pane.conversation_id
        screen = await open_list(pilot, app)
        assert table_ids(screen)[0] == current
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("n")  # kept
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("y")
        await wait_until(pilot, lambda: current not in screen.entries, what="deleted")
        assert table_ids(screen) == [keep]
        deletes = [r for r in sim.requests if r.method == "DELETE"]
        assert [r.path for r in deletes] == [f"/v1/conversations/{current}"]
        assert current not in sim.state.conversations
        assert pane.conversation_id is None  # the next message starts a new one, said in the log
        await pilot.press("escape")
        await wait_until(pilot, lambda: "New conversation" in notices(pane, "info"))


# -- gone, local, account ----------------------------------------------------------------------------


async def test_a_conversation_deleted_elsewhere_gives_a_clear_notice_on_open_and_on_send(sim):
    gone = chat(sim, "soon gone", {"product": "difytui"})
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, CHAT)
        await open_list(pilot, app)
        with Dify(base_url=sim.base_url, apps={CHAT: sim.api_keys[CHAT]}, user=USER) as dify:
            dify.app.conversations.delete(CHAT, gone)  # by another client, while the list is open
        await pilot.press("enter")
        await wait_until(pilot, lambda: gone in notices(pane, "warning"), what="the notice")
        assert "no longer exists on Dify" in notices(pane, "warning")
        assert pane.conversation_id is None

        # on send: a conversation deleted after it was opened (chatbot: Dify answers 404)
        pane.prompt.focus()
        await type_text(pilot, "new start")
        await pilot.press("enter")
        await run_done(pilot, pane)
        second = pane.conversation_id
        with Dify(base_url=sim.base_url, apps={CHAT: sim.api_keys[CHAT]}, user=USER) as dify:
            dify.app.conversations.delete(CHAT, second)
        await type_text(pilot, "still there?")
        await pilot.press("enter")
        await run_done(pilot, pane)
        errors = notices(pane, "error")
        assert second in errors and "no longer exists on Dify" in errors
        assert pane.prompt.text == "still there?"  # the message is kept


async def test_conversations_only_the_local_records_know_are_listed_and_marked(sim):
    listed = chat(sim, "on the server", {"product": "difytui"})
    store = Store()
    ws = workspace_for(sim)
    lost = "5f1e2b9a-0000-4000-8000-000000000001"
    store.set_conversation_inputs(workspace_key(ws), CHAT, lost, {"customer_name": "Lin"})
    store.set_conversation_inputs(workspace_key(ws), CHAT, listed, {"customer_name": "Ada"})
    app = DifyConsole(ws, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, CHAT)
        screen = await open_list(pilot, app)
        assert table_ids(screen) == [listed, lost]
        assert screen.entries[lost].on_dify is False
        assert NOT_LISTED in str(screen.table.get_row(lost)[3])
        assert screen.entries[listed].inputs["customer_name"] == "Ada"  # the local record's, newer
        await pilot.press("ctrl+end", "r")  # Dify has no such conversation to rename
        assert isinstance(app.screen, ConversationsScreen)
        assert not requests_to(sim, f"/conversations/{lost}/name")
        await pilot.press("enter")  # opened anyway: Dify's 404 is said, no new thread in silence
        pane = app.current_pane
        await wait_until(pilot, lambda: lost in notices(pane, "warning"), what="the gone notice")
        assert pane.conversation_id is None
    store.close()


async def test_an_account_workspace_says_it_has_no_history_and_lists_the_local_records(sim):
    from .test_workspaces import account_console, discovered, id_of

    store = Store()
    app = account_console(sim, store)
    async with app.run_test(size=SIZE) as pilot:
        await discovered(pilot, app)
        app_id = id_of(app, "Trip Planner")
        pane = await open_app(pilot, app, app_id, typed="trip")
        await type_text(pilot, "Lyon")
        pane.prompt.focus()
        await type_text(pilot, "what to eat")
        await pilot.press("enter")
        await run_done(pilot, pane)
        conversation = pane.conversation_id
        await pilot.press("f2")
        screen = await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and app.screen)
        await wait_until(pilot, lambda: screen.entries, what="the local records")
        assert "no conversation history" in str(screen.query_one("#conv-status").render())
        assert table_ids(screen) == [conversation]
        assert str(screen.table.get_row(conversation)[3]) == ""  # not "not on Dify": none can be listed
        assert not [r for r in sim.requests if "conversations" in r.path]
    store.close()
