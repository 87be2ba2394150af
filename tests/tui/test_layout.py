"""The console at 80×24 (issue 10, point 9): the sidebar steps aside (ctrl+b brings it back), the
footer keeps the keys that matter, timeline rows stay on one line, the sidebar's lines are whole."""

from __future__ import annotations

from typing import Any

from .conftest import apps_loaded, console, open_app, run_done, screen_text, type_text, wait_until

SMALL = (80, 24)
KEYS = {"^r", "esc", "^n", "^t", "^y", "^l", "f1", "^q"}


def footer_line(app: Any) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


def footer_keys(app: Any) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [key.key for key in app.query(FooterKey)]


async def test_the_sidebar_steps_aside_in_a_narrow_terminal_and_ctrl_b_toggles_it(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        await apps_loaded(pilot, app)
        sidebar = app.query_one("#sidebar")
        assert sidebar.display  # nothing open yet: the list is what there is to see
        pane = await open_app(pilot, app, "support-bot")
        assert not sidebar.display
        assert pane.size.width >= 78  # the whole width for the app
        await pilot.press("ctrl+b")
        assert sidebar.display
        await pilot.press("ctrl+b")
        assert not sidebar.display
        assert app.focused is pane.prompt
        await pilot.press("ctrl+l")  # the filter key brings the list back with the focus
        assert sidebar.display and app.focused is app.query_one("#app-filter")
        await type_text(pilot, "copy")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_pane and app.current_pane.item.id == "copywriter")
        await wait_until(pilot, lambda: not sidebar.display, what="the sidebar to step aside")


async def test_the_sidebar_stays_in_a_wide_terminal_and_ctrl_b_hides_it(sim):
    app = console(sim)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        sidebar = app.query_one("#sidebar")
        assert sidebar.display
        app.query_one("#app-options").focus()
        await pilot.press("ctrl+b")
        assert not sidebar.display
        assert app.focused is pane.prompt  # the focus does not stay on a hidden list


async def test_the_footer_keeps_the_keys_that_matter_at_80_columns(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        await apps_loaded(pilot, app)
        await wait_until(pilot, lambda: footer_keys(app), what="footer")
        for app_id, wanted in (
            ("support-bot", ["^r", "esc", "^n", "^t", "^y", "^l", "f1", "^q"]),
            ("report-builder", ["^r", "esc", "^t", "^y", "^l", "f1", "^q"]),
        ):
            await open_app(pilot, app, app_id)
            await pilot.pause()
            line = footer_line(app)
            shown = [word for word in line.split() if word in KEYS]
            assert sorted(shown) == sorted(wanted), line
            assert "…" not in line and "▏^p" in line  # nothing cut short before the palette key


async def test_workflow_and_completion_panes_do_not_offer_a_new_chat(sim):
    from difytui.tui.commands import DifyCommands

    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        for app_id in ("report-builder", "copywriter"):
            await open_app(pilot, app, app_id)
            await pilot.pause()
            assert "ctrl+n" not in footer_keys(app)
            assert "New chat" not in footer_line(app)
            palette = [text for text, _callback, _help in DifyCommands(app.screen)._commands()]
            assert "New conversation" not in palette and "Copy conversation id" not in palette
        await open_app(pilot, app, "support-bot")
        palette = [text for text, _callback, _help in DifyCommands(app.screen)._commands()]
        assert "New conversation" in palette and "Copy conversation id" in palette


async def test_timeline_rows_fit_on_one_line_in_a_narrow_pane(sim):
    from difytui.tui.widgets.timeline import NodeTimeline

    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        await type_text(pilot, "Terminal UIs")
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        timeline = pane.log_view.query_one(NodeTimeline)
        nodes = len(timeline.lines)
        assert nodes >= 5
        assert timeline.size.height == nodes
        if not app.query_one("#sidebar").display:
            await pilot.press("ctrl+b")  # the sidebar back: a pane about 45 columns wide
        await pilot.pause()
        assert timeline.size.width < 45
        assert timeline.size.height == nodes


async def test_the_sidebar_wraps_a_long_error_instead_of_cutting_it(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        await apps_loaded(pilot, app)
        words = " ".join(f"word{n}" for n in range(24))
        app.app_list.set_status(f"cannot refresh: {words} END")
        await pilot.pause()
        text = screen_text(app)
        assert "END" in text and "word23" in text


async def test_the_app_count_follows_the_filter(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        await apps_loaded(pilot, app)
        status = app.query_one("#apps-status")
        total = len(app.app_items())
        await wait_until(pilot, lambda: str(status.render()).startswith(f"{total} apps"), what="the count")
        await pilot.press("ctrl+l")
        await type_text(pilot, "copywriter")
        await wait_until(pilot, lambda: f"1 of {total} apps" in str(status.render()), what="filtered count")
        await pilot.press("ctrl+u")  # clear the filter
        await wait_until(pilot, lambda: str(status.render()).startswith(f"{total} apps"), what="count again")


async def test_a_workspace_of_one_app_counts_it_in_the_singular(sim):
    keys = {"copywriter": sim.apps_config()["copywriter"]}
    app = console(sim, keys=keys)
    async with app.run_test(size=SMALL) as pilot:
        await apps_loaded(pilot, app)
        status = app.query_one("#apps-status")
        await wait_until(pilot, lambda: str(status.render()).split("\n")[0] == "1 app", what="1 app")


async def test_switching_from_a_chat_to_a_workflow_leaves_no_chat_keys_behind(sim):
    app = console(sim)
    async with app.run_test(size=SMALL) as pilot:
        chat = await open_app(pilot, app, "support-bot")
        chat.prompt.focus()
        chat.prompt.text = "not for the workflow"
        # The workflow's form never loads, so nothing in it takes the focus.
        down = '{"code": "x", "message": "down", "status": 500}'
        sim.add_fault("/v1/parameters", "status", status=500, body=down)
        app.open_app("report-builder")  # the palette's "Switch app"
        workflow = await wait_until(pilot, lambda: app.current_pane is not chat and app.current_pane)
        await wait_until(pilot, lambda: workflow._params_error, what="the form to fail")
        await pilot.pause()
        assert "ctrl+n" not in footer_keys(app)
        await pilot.press("ctrl+r")  # retries the workflow's form: it does not send the chat's message
        await pilot.pause()
        assert not [r for r in sim.requests if r.path.endswith("/chat-messages")]
