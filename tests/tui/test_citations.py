"""Issue 10 §11: an answer's sources (message_end.metadata.retriever_resources) show under it."""

from __future__ import annotations

from difytui.sim import content

from .conftest import SIZE, ask, console, requests_to, screen_text, wait_until


async def _ask(pilot, app, text: str):
    return await ask(pilot, app, "support-bot", text)


async def test_sources_fold_under_the_answer_and_unfold_with_enter(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _ask(pilot, app, "hello")
        citations = pane.log_view.query(".citations")
        assert len(citations) == 1, "the Support Bot's answer has one source"
        folded = citations.first()
        # Under the answer (and its rating line), folded to one line that names the document.
        children = [type(child).__name__ for child in pane.log_view.children]
        assert children[-3:] == ["AnswerView", "AnswerBar", "Citations"]
        assert "1 source: README.md" in screen_text(app)
        assert "starts a local simulator" not in screen_text(app)

        folded.query_one("CollapsibleTitle").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not folded.collapsed, what="sources unfolded")
        await pilot.pause()
        shown = screen_text(app)
        assert "1. difytui docs › README.md  score 0.87" in shown
        assert "difytui --demo starts a local simulator" in shown


async def test_source_text_from_the_server_is_shown_literally(sim, monkeypatch):
    hostile = {
        **content.CITATION,
        "dataset_name": "[bold red]kb[/]",
        "document_name": "evil\x1b[2J.md",
        "content": "line one\nline two [link=http://x]click[/link]",
        "score": "high",  # not a number: no score shown, nothing breaks
    }
    monkeypatch.setattr(content, "CITATION", hostile)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _ask(pilot, app, "hello")
        assert requests_to(sim, "/chat-messages")
        folded = pane.log_view.query_one(".citations")
        folded.collapsed = False
        await pilot.pause()
        shown = screen_text(app)
        assert "[bold red]kb[/] › evil␛[2J.md" in shown
        assert "line one line two [link=http://x]click[/link]" in shown
        assert "score" not in str(folded.query_one(".citation").render())
