"""Issue 10 §12: an agent's tool calls are blocks of their own, with readable JSON, and the
answer's next round (a heading) starts on its own line."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult

from difytui.sim import content
from difytui.tui.widgets.agent_steps import AgentSteps, decoded, paragraph_break
from difytui.tui.widgets.line_piece import LinePiece
from difytui.tui.widgets.response_log import AnswerView

from .conftest import SIZE, ask, console, screen_text, wait_until


async def _plan(pilot, app):
    return await ask(pilot, app, "travel-agent", "Plan a weekend in Kyoto")


async def test_a_tool_call_is_a_folded_block_with_decoded_pretty_json(sim):
    app = console(sim)
    async with app.run_test(size=(120, 60)) as pilot:
        pane = await _plan(pilot, app)
        steps = pane.log_view.query(".agent-step")
        assert len(steps) == 1, "the travel agent calls web_search once"
        step = steps.first()
        title = str(step.title)
        assert title.startswith("🔧 Web Search") and title.endswith("✓")
        assert "Plan a weekend in Kyoto" in title
        step.query_one("CollapsibleTitle").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not step.collapsed, what="step unfolded")
        await pilot.pause()
        shown = screen_text(app)
        # The observation is JSON in a JSON string ({"web_search": "{\"forecast\"…"}): decoded, indented.
        assert '"forecast": "sunny, 22°C",' in shown
        assert '"Nishiki market"' in shown
        assert '\\"' not in shown and '"web_search"' not in shown
        assert '"query": "Plan a weekend in Kyoto"' in shown


async def test_a_heading_after_a_tool_call_starts_its_own_line(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _plan(pilot, app)
        answer = pane.log_view.query(AnswerView).last()
        lines = [strip.text.strip() for piece in answer.query(LinePiece) for strip in piece.lines(60)]
        assert any(line.startswith("3-day plan") for line in lines), answer.text
        # The first round's sentence stays a paragraph of its own, unchanged.
        assert "Let me check the weather and the sights first." in answer.text
        assert "first. ###" not in answer.text


async def test_tool_text_from_the_server_is_shown_literally(sim, monkeypatch):
    observation = json.dumps({"note": "[bold red]boom[/] \x1b[2J", "raw": "[link=x]y[/link]"})
    plan = content.agent_plan

    def hostile(query, inputs):
        _query, _obs, final = plan(query, inputs)
        return "[b]q[/b]", observation, final

    monkeypatch.setattr(content, "agent_plan", hostile)
    app = console(sim)
    async with app.run_test(size=(120, 60)) as pilot:
        pane = await _plan(pilot, app)
        step = pane.log_view.query_one(".agent-step")
        assert '{"query": "[b]q[/b]"}' in str(step.title)
        step.collapsed = False
        await pilot.pause()
        shown = screen_text(app)
        assert '"note": "[bold red]boom[/] \\u001b[2J"' in shown  # JSON keeps control characters escaped
        assert '"raw": "[link=x]y[/link]"' in shown


async def test_a_plain_text_observation_is_shown_as_text_with_escapes_inert(sim, monkeypatch):
    plan = content.agent_plan

    def plain(query, inputs):
        tool_query, _obs, final = plan(query, inputs)
        return tool_query, "sunny \x1b[31mred[/] [b]x[/b]", final

    monkeypatch.setattr(content, "agent_plan", plain)
    app = console(sim)
    async with app.run_test(size=(120, 60)) as pilot:
        pane = await _plan(pilot, app)
        step = pane.log_view.query_one(".agent-step")
        step.collapsed = False
        await pilot.pause()
        assert "sunny ␛[31mred[/] [b]x[/b]" in screen_text(app)


class _Steps(App[None]):
    def compose(self) -> ComposeResult:
        yield AgentSteps()


def _thought(tid: str, position: int, tool: str = "", tool_input: str = "", observation: str = "") -> dict:
    return {
        "event": "agent_thought",
        "id": tid,
        "position": position,
        "thought": "",
        "tool": tool,
        "tool_labels": {},
        "tool_input": tool_input,
        "observation": observation,
    }


async def test_each_tool_call_is_its_own_block_merged_by_thought_id():
    app = _Steps()
    async with app.run_test() as pilot:
        steps = app.query_one(AgentSteps)
        assert await steps.apply(_thought("t1", 1)) is False  # no tool yet: nothing to show
        assert not steps.display
        search = '{"search": {"q": "a"}}'
        assert await steps.apply(_thought("t1", 1, "search", search)) is True
        assert await steps.apply(_thought("t1", 1, "search", search, '{"search": "hit"}')) is False
        assert await steps.apply(_thought("t2", 2, "calc;clock", '{"calc": "1+1", "clock": ""}')) is True
        await pilot.pause()
        blocks = list(steps.query(".agent-step"))
        assert len(blocks) == 2 and steps.display
        assert str(blocks[0].title) == '🔧 search  {"q": "a"}  ✓'
        assert str(blocks[1].title).startswith("🔧 calc, clock") and str(blocks[1].title).endswith("…")


def test_decoded_unwraps_json_held_in_strings():
    assert decoded('{"a": "{\\"b\\": [1, \\"[2]\\"]}"}') == {"a": {"b": [1, [2]]}}
    assert decoded("not json {") == "not json {"
    assert decoded("[broken") == "[broken"
    assert decoded('"{x}"') == '"{x}"'


def test_paragraph_break_only_where_a_round_ends_mid_paragraph():
    assert paragraph_break("") == ""
    assert paragraph_break("first. ") == "\n\n"
    assert paragraph_break("first.\n") == "\n"
    assert paragraph_break("first.\n\n") == ""
