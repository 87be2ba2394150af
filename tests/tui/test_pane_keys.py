"""The run keys belong to the pane: focus decides which keys act, and the pane keeps the focus."""

from __future__ import annotations

from typing import Any

from difytui.tui.widgets.pane import AppPane

from .conftest import SIZE, console, open_app, requests_to, run_done, type_text, wait_until


def focused_pane(app: Any) -> AppPane | None:
    focused = app.focused
    if focused is None:
        return None
    return next((n for n in focused.ancestors_with_self if isinstance(n, AppPane)), None)


def actions(app: Any) -> set[str]:
    return {active.binding.action for active in app.screen.active_bindings.values()}


async def test_a_run_from_the_form_keeps_the_focus_in_its_pane(sim):
    app = console(sim, keymap={"log.raw": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        assert "new_conversation" not in actions(app)  # a text generator has no conversation
        await type_text(pilot, "Kettle")
        await pilot.press("tab")
        await type_text(pilot, "boils")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        # The form folded away with the focused field in it: the focus moved to the Run button
        # instead of to nothing, so the pane's keys still reach the pane.
        assert focused_pane(app) is pane
        await pilot.press("f6")  # [keymap] applies to the pane's keys
        assert pane.raw.display
        await pilot.press("escape")  # nothing to stop: back to the app list
        assert app.focused is app.query_one("#app-options")


async def test_escape_stops_the_run_only_from_its_pane(slow_sim):
    sim = slow_sim
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "tell me everything")
        await pilot.press("enter")
        task_id = await wait_until(pilot, lambda: pane.active and pane.active.task_id, what="task id")
        app.query_one("#app-filter").focus()
        await pilot.press("escape")  # in the filter box: leave it, the answer goes on
        assert app.focused is app.query_one("#app-options")
        assert pane.active is not None and task_id in sim.running_tasks
        pane.prompt.focus()
        await pilot.press("escape")
        await wait_until(pilot, lambda: requests_to(sim, f"/chat-messages/{task_id}/stop"), what="stop")
        await wait_until(pilot, lambda: pane.prompt.text == "tell me everything", what="prompt back")
        assert pane.active is None and pane.conversation_id
        await pilot.press("ctrl+n")  # the chat pane's own key
        await wait_until(pilot, lambda: pane.conversation_id is None, what="new conversation")


async def test_the_palettes_run_entry_runs_the_pane_on_screen(sim):
    from difytui.tui.commands import DifyCommands

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        options = app.query_one("#app-options")
        options.highlighted = options.get_option_index("copywriter")  # the list points elsewhere
        pane.prompt.text = "from the palette"
        provider = DifyCommands(app.screen)
        run = next(callback for text, callback, _help in provider._commands() if text == "Run / send")
        run()
        await run_done(pilot, pane)
        assert [r.json["query"] for r in requests_to(sim, "/chat-messages")] == ["from the palette"]
        assert app.current_pane is pane
