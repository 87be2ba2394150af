"""Message actions (issue 11): rate, comment on and copy any answer of a chat, current or from
history, and the app's suggested questions after an answer; against the simulator on loopback."""

from __future__ import annotations

import pytest

from difytui.client import Dify
from difytui.tui.message_actions import AnswerBar
from difytui.tui.screens.feedback import FeedbackScreen
from difytui.tui.widgets.chat_pane import SuggestedQuestion
from difytui.tui.widgets.response_log import Notice

from .conftest import SIZE, ask, console, open_app, requests_to, run_done, type_text, wait_until

CHAT = "support-bot"


def bars(pane) -> list[AnswerBar]:
    return list(pane.log_view.query(AnswerBar))


def saved(sim) -> list[tuple[str, str, str | None]]:
    """The simulator's recorded feedback rows: (message id, rating, comment)."""
    return [(f.message_id, f.rating, f.content) for f in sim.state.feedbacks]


def errors(app) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "error"]


async def settled_bar(pilot, bar: AnswerBar, rating: str | None) -> None:
    await wait_until(pilot, lambda: not bar.saving and bar.rating == rating, what=f"the bar to show {rating}")


async def answered(pilot, app, text: str):
    """Open the chat, send ``text``; the pane once the answer has its bar (the pane mounts it as
    the run closes, which may come a frame after ``run_done``)."""
    pane = await ask(pilot, app, CHAT, text)
    await wait_until(pilot, lambda: len(bars(pane)) == 1, what="the answer's bar")
    return pane


async def send(pilot, pane, text: str) -> None:
    before = len(bars(pane))
    pane.prompt.focus()
    await type_text(pilot, text)
    await pilot.press("enter")
    await run_done(pilot, pane)
    await wait_until(pilot, lambda: len(bars(pane)) == before + 1, what="the new answer's bar")


async def test_like_then_dislike_with_a_comment_then_clear(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")
        (bar,) = bars(pane)
        mid = bar.message_id
        assert mid and mid in sim.state.messages  # the id the stream's events carried

        await pilot.press("alt+l")
        await wait_until(pilot, lambda: saved(sim) == [(mid, "like", None)], what="the like")
        await settled_bar(pilot, bar, "like")
        assert bar.display and "👍 liked" in str(bar.render())

        await pilot.press("alt+c")
        screen = await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen) and app.screen)
        await type_text(pilot, "too long")
        await pilot.click("#feedback-dislike")
        await wait_until(pilot, lambda: saved(sim) == [(mid, "dislike", "too long")], what="the dislike")
        await settled_bar(pilot, bar, "dislike")
        assert app.screen is not screen
        assert "👎 disliked — too long" in str(bar.render())

        await pilot.press("alt+x")
        await wait_until(pilot, lambda: saved(sim) == [], what="the rating cleared")
        await settled_bar(pilot, bar, None)
        assert not bar.display  # nothing to say about an unrated answer that is not picked
        assert errors(app) == []


async def test_an_agent_answer_gets_a_comment_with_enter(sim):
    """Enter in the comment keeps the answer's rating (like when it has none); Escape rates nothing."""
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await ask(pilot, app, "travel-agent", "Plan a weekend in Kyoto")
        bar = await wait_until(pilot, lambda: bars(pane) and bars(pane)[-1], what="the answer's bar")
        await pilot.press("alt+c")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FeedbackScreen))
        await pilot.press("alt+c")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await type_text(pilot, "great plan")
        await pilot.press("enter")
        await wait_until(pilot, lambda: saved(sim), what="the rating")
        assert saved(sim) == [(bar.message_id, "like", "great plan")]
        await settled_bar(pilot, bar, "like")
        assert pane.prompt.text == ""  # the comment went to the dialog, not to the prompt


async def test_a_history_answer_shows_its_rating_and_can_be_rated(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "first visit")
        await pilot.press("alt+l")
        mid = bars(pane)[0].message_id
        await wait_until(pilot, lambda: saved(sim) == [(mid, "like", None)], what="the like")

    again = console(sim)  # the conversation is continued: its last turns come from GET /messages
    async with again.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, again, CHAT)
        await wait_until(pilot, lambda: bars(pane), what="the history answer")
        (bar,) = bars(pane)
        assert bar.message_id == mid and bar.rating == "like"
        assert "👍 liked" in str(bar.render())
        await pilot.press("alt+d")
        await wait_until(pilot, lambda: saved(sim) == [(mid, "dislike", None)], what="the dislike")
        await settled_bar(pilot, bar, "dislike")


async def test_copy_an_answer_that_is_not_the_last(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "first question")
        await send(pilot, pane, "second question")
        first, second = bars(pane)
        assert first.text != second.text
        await pilot.press("alt+up")
        assert first.selected and not second.selected
        assert "selected answer" in str(first.render())
        await pilot.press("ctrl+y")
        assert app.clipboard == first.text
        assert any("Copied the selected answer" in str(n.message) for n in app._notifications)
        await pilot.press("alt+down")
        await pilot.press("ctrl+y")
        assert app.clipboard == second.text
        # A new answer is the selected one again.
        await pilot.press("alt+up")
        await send(pilot, pane, "third")
        await pilot.press("ctrl+y")
        assert app.clipboard == bars(pane)[-1].text


async def test_suggested_questions_follow_an_answer_and_keep_the_draft(sim):
    sim.enable_suggested(CHAT, ["What does it cost?", "Is there a trial?"])
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")
        shown = await wait_until(pilot, lambda: list(pane.log_view.query(".-after-answer SuggestedQuestion")))
        assert [q.question for q in shown] == ["What does it cost?", "Is there a trial?"]
        await type_text(pilot, "my draft")
        await pilot.press("alt+2")
        await run_done(pilot, pane)
        assert requests_to(sim, "/chat-messages")[-1].json["query"] == "Is there a trial?"
        assert pane.prompt.text == "my draft"
        # The next answer brings its own suggestions; the old ones are gone.
        await wait_until(pilot, lambda: len(pane.log_view.query(".-after-answer")) == 1)
        assert len(pane.log_view.query(SuggestedQuestion)) == 2


@pytest.mark.parametrize("setting", ["off", "no_model"])
async def test_no_suggestions_and_no_notice_when_the_app_gives_none(sim, setting):
    if setting == "no_model":
        sim.enable_suggested(CHAT, None)  # on, but no model answers: Dify's 500
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")  # the bar is mounted once suggestions are asked or not
        await wait_until(pilot, lambda: not [w for w in app.workers if w.group == "suggestions"])
        asked = [r for r in sim.requests if r.path.endswith("/suggested")]
        # Off: the app's parameters say so, nothing to ask. No model: Dify's 500, kept quiet.
        assert len(asked) == (1 if setting == "no_model" else 0)
        await pilot.pause()
        assert not pane.log_view.query(SuggestedQuestion)
        assert errors(app) == [] and not pane.log_view.query(Notice)


async def test_rating_an_answer_whose_conversation_is_gone_says_so_once(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")
        with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as dify:
            dify.app.conversations.delete(CHAT, pane.conversation_id)
        (bar,) = bars(pane)
        await pilot.press("alt+l")
        await wait_until(pilot, lambda: errors(app), what="the notice")
        await settled_bar(pilot, bar, None)
        assert len(errors(app)) == 1 and "no longer has this answer" in errors(app)[0]
        # Still usable: ctrl+n and a new message work.
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not bars(pane), what="a new conversation")
        await send(pilot, pane, "again")
        assert bars(pane)[0].message_id != bar.message_id


async def test_rating_with_the_server_gone_says_so_once(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")
        sim.add_fault("/v1/messages/", "status", status=502, body="bad gateway")
        await pilot.press("alt+l")
        await wait_until(pilot, lambda: errors(app), what="the notice")
        (bar,) = bars(pane)
        await settled_bar(pilot, bar, None)
        assert len(errors(app)) == 1 and errors(app)[0].startswith("Could not save the rating: 502")
        assert saved(sim) == []
        await pilot.press("alt+l")  # the next try goes through
        await wait_until(pilot, lambda: saved(sim), what="the like")


async def test_the_palette_likes_the_selected_answer(sim):
    from difytui.tui.commands import DifyCommands

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await answered(pilot, app, "hello")
        commands = {name: callback for name, callback, _help in DifyCommands(app.screen)._commands()}
        for name in ("Dislike answer", "Clear answer rating", "Comment on answer…", "Previous answer"):
            assert name in commands
        commands["Like answer"]()
        mid = bars(pane)[0].message_id
        await wait_until(pilot, lambda: saved(sim) == [(mid, "like", None)], what="the like")
