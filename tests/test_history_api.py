"""The history API (issue 11) on both clients, over loopback against the simulator.

The long lists are seeded straight into the simulator's state with its clock set by the test, so
"several messages in one second" is exact; every read goes over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from difytui.errors import ConversationNotFoundError
from difytui.history import Message, MessagePager, Page
from difytui.sim import Simulator
from difytui.sim.apps import ALL_APPS

CHAT = "support-bot"
WORKFLOW = "report-builder"
REPORT = {"topic": "SSE", "audience": "engineers", "sections": 3}
START = 1_795_996_000


def walk(api: Any, name: str, *args: Any, **kwargs: Any) -> list[Any]:
    """Everything an ``all`` iterator gives, on either client."""
    parts = name.split(".")
    target = api.client
    for part in parts:
        target = getattr(target, part)
    result = target(*args, **kwargs)
    if api.kind == "sync":
        return list(result)

    async def drain() -> list[Any]:
        return [item async for item in result]

    return api.loop.run_until_complete(drain())


def seed_conversations(sim: Simulator, count: int, user: str = "tester") -> list[str]:
    """``count`` conversations, two per second; their ids in creation order."""
    ids = []
    for n in range(count):
        now = START + n // 2
        sim.state.clock = lambda now=now: now
        conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, user, f"question {n}", {"product": "difytui"})
        ids.append(conv.id)
    return ids


def seed_messages(sim: Simulator, count: int, user: str = "tester") -> tuple[str, list[str]]:
    """One conversation of ``count`` messages in groups of 1 to 7 sharing a second; ids oldest first."""
    conv = sim.state.new_conversation(ALL_APPS[CHAT], CHAT, user, "m0", {})
    ids, second, n = [], START, 0
    while n < count:
        for _ in range(min(1 + second % 7, count - n)):
            sim.state.clock = lambda now=second: now
            ids.append(sim.state.add_message(conv, f"m{n}", {}).id)
            n += 1
        second += 1
    return conv.id, ids


def test_all_conversations_pages_past_100_each_once_newest_first(sim, api):
    ids = seed_conversations(sim, 130)
    listed = walk(api, "app.conversations.all", CHAT, page_size=50)
    assert [c.id for c in listed] == ids[::-1]
    pages = [r for r in sim.requests if r.path == "/v1/conversations"]
    assert len(pages) == 3 and "last_id" in pages[-1].query


def test_all_messages_newest_first_none_lost_or_doubled_across_same_second_pages(sim, api):
    cid, ids = seed_messages(sim, 250)
    listed = walk(api, "app.messages.all", CHAT, cid, page_size=20)
    got = [m.id for m in listed]
    assert len(got) == len(set(got)) == 250 and set(got) == set(ids)
    assert [m.created_at for m in listed] == sorted((m.created_at for m in listed), reverse=True)

    # the quirk is real here: plain first_id paging (data[0] of each page) loses messages
    naive, first_id = [], None
    while True:
        page = api("app.messages.page", CHAT, cid, 20, first_id)
        naive += [m.id for m in page.items]
        if not page.has_more or not page.items:
            break
        first_id = page.items[0].id
    assert len(set(naive)) < 250


def test_message_pager_widens_a_one_second_page_and_flags_what_it_cannot_reach():
    def msgs(second: int, count: int, tag: str) -> list[Message]:
        return [Message(f"{tag}{i}", "c", "", "", {}, None, "normal", None, second, {}) for i in range(count)]

    pager = MessagePager(page_size=20)
    assert pager.next_query() == {"limit": 20}
    pager.feed(Page(msgs(5, 20, "a"), has_more=True))  # all one second: ask again, wider
    assert pager.next_query() == {"limit": 100}
    pager.feed(Page(msgs(5, 100, "a"), has_more=True))  # still all one second: the rest is out of reach
    assert pager.gap and pager.next_query() == {"limit": 100, "first_id": "a0"}


def test_rename_and_auto_generate_then_delete_and_the_typed_not_found(sim, api):
    body = api("app.chat.invoke", CHAT, "hello there", {"product": "difytui"}, response_mode="blocking")
    cid = body["conversation_id"]
    assert api("app.conversations.rename", CHAT, cid, "Trip notes").name == "Trip notes"
    assert api("app.conversations.rename", CHAT, cid, auto_generate=True).name == "Trip notes"
    with pytest.raises(ValueError):
        api("app.conversations.rename", CHAT, cid, "  ")
    assert api("app.conversations.delete", CHAT, cid) is None
    with pytest.raises(ConversationNotFoundError) as gone:
        api("app.conversations.delete", CHAT, cid)
    assert gone.value.conversation_id == cid and gone.value.status == 404
    assert "no longer exists" in str(gone.value)
    with pytest.raises(ConversationNotFoundError):
        walk(api, "app.messages.all", CHAT, cid)
    assert api("app.conversations", CHAT)["data"] == []  # the old callable form still answers


def test_feedback_set_change_clear_with_content(sim, api):
    body = api("app.chat.invoke", CHAT, "rate me", {"product": "difytui"}, response_mode="blocking")
    mid, cid = body["message_id"], body["conversation_id"]
    api("app.messages.feedback", CHAT, mid, "like", "clear answer")
    (fb,) = api("app.messages.app_feedbacks", CHAT)
    assert (fb.message_id, fb.rating, fb.content) == (mid, "like", "clear answer")
    assert [m.rating for m in walk(api, "app.messages.all", CHAT, cid)] == ["like"]
    api("app.messages.feedback", CHAT, mid, "dislike")
    (fb,) = api("app.messages.app_feedbacks", CHAT)
    assert (fb.rating, fb.content) == ("dislike", None)
    api("app.messages.feedback", CHAT, mid, None)
    api("app.messages.feedback", CHAT, mid, None)  # already clear: the wanted state, no error
    assert api("app.messages.app_feedbacks", CHAT) == []
    assert [m.rating for m in walk(api, "app.messages.all", CHAT, cid)] == [None]


def test_suggested_questions_off_no_model_and_on(sim, api):
    mid = api("app.chat.invoke", CHAT, "hi", {"product": "difytui"}, response_mode="blocking")["message_id"]
    off = api("app.messages.suggested", CHAT, mid)
    assert (off.questions, off.unavailable) == ([], "disabled")
    sim.enable_suggested(CHAT, None)
    assert api("app.messages.suggested", CHAT, mid).unavailable == "no_model"
    sim.enable_suggested(CHAT, ["What else?"])
    on = api("app.messages.suggested", CHAT, mid)
    assert (on.questions, on.unavailable) == (["What else?"], None)


def test_workflow_logs_paged_and_one_run_with_decoded_inputs(sim, api):
    runs = [
        api("app.workflow.invoke", WORKFLOW, {**REPORT, "topic": f"T{n}"}, response_mode="blocking")[
            "workflow_run_id"
        ]
        for n in range(3)
    ]
    first = api("app.workflow_runs.logs", WORKFLOW, limit=2)
    assert (first.total, first.has_more, first.page) == (3, True, 1)
    second = api("app.workflow_runs.logs", WORKFLOW, page=2, limit=2)
    assert [r.id for r in first.items + second.items] == runs[::-1]
    assert first.items[0].session_id == "tester" and first.items[0].status == "succeeded"
    run = api("app.workflow_runs.get", WORKFLOW, runs[0])
    assert run.inputs["topic"] == "T0" and run.status == "succeeded" and run.outputs


def test_async_iteration_is_lazy(sim):
    """``all`` on AsyncDify fetches a page only when the iteration needs it."""
    from difytui.client import AsyncDify

    seed_conversations(sim, 30)

    async def first_only() -> int:
        async with AsyncDify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
            async for _ in client.app.conversations.all(CHAT, page_size=10):
                break
            return len([r for r in sim.requests if r.path == "/v1/conversations"])

    assert asyncio.run(first_only()) == 1
