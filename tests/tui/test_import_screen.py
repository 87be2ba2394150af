"""The console import screen as a new user meets it (issue 10, point 15): ticked rows look ticked,
and the result says what the import wrote to the config."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, Checkbox, Input, SelectionList

from difytui.tui.screens.import_console import ImportConsoleScreen, ImportOutcome, ImportResultScreen
from difytui.tui.startup import styles_dir

from .conftest import wait_until

DEMO = "Demo Workspace"


class Host(App):
    CSS_PATH = styles_dir() / "import.tcss"

    def __init__(self, path, workspace) -> None:
        super().__init__()
        self.path, self.workspace = path, workspace
        self.outcomes: list[ImportOutcome | None] = []

    def on_mount(self) -> None:
        self.push_screen(ImportConsoleScreen(self.path, self.workspace), self.outcomes.append)


def _hand_written(tmp_path, sim):
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(
        f'[workspaces.mine]\nbase_url = "{sim.base_url}"\n\n'
        f'[workspaces.mine.apps.helpdesk]\napi_key = "{sim.api_keys["support-bot"]}"\n'
    )
    return path


async def _to_the_app_list(pilot, app: Host, sim) -> ImportConsoleScreen:
    screen = app.screen
    assert isinstance(screen, ImportConsoleScreen)
    screen.query_one("#import-url", Input).value = sim.console_url
    screen.query_one("#import-email", Input).value = sim.account_email
    screen.query_one("#import-password", Input).value = sim.account_password
    screen.query_one("#import-go", Button).press()
    await wait_until(pilot, lambda: not screen.query_one("#import-workspace").has_class("hidden")
                     or screen.plan is not None, what="logged in")  # fmt: skip
    if screen.plan is None:
        await pilot.pause()
        screen.query_one("#import-go", Button).press()
    await wait_until(pilot, lambda: screen.plan is not None, what="the app list")
    await pilot.pause()
    return screen


def _row_texts(apps: SelectionList) -> dict[str, str]:
    """uuid → the row as drawn."""
    return {
        apps.get_option_at_index(i).value: apps.render_line(i - apps.scroll_offset.y).text
        for i in range(apps.option_count)
        if 0 <= i - apps.scroll_offset.y < apps.size.height
    }


async def test_ticked_and_unticked_apps_are_told_apart_by_shape(sim, tmp_path):
    app = Host(_hand_written(tmp_path, sim), "mine")
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await _to_the_app_list(pilot, app, sim)
        apps = screen.query_one("#import-apps", SelectionList)
        support = sim.directory.by_slug("support-bot").uuid
        copywriter = sim.directory.by_slug("copywriter").uuid
        rows = _row_texts(apps)
        assert rows[support].startswith("[x] ")  # already in the config: ticked
        assert rows[copywriter].startswith("[ ] ")
        assert not any("▐" in row or "▌" in row for row in rows.values())
        apps.select(copywriter)
        await pilot.pause()
        assert _row_texts(apps)[copywriter].startswith("[x] ")


async def test_a_reimport_that_adds_no_app_says_what_it_wrote(sim, tmp_path):
    path = _hand_written(tmp_path, sim)
    app = Host(path, "mine")
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await _to_the_app_list(pilot, app, sim)
        assert not screen.query_one("#import-create", Checkbox).value
        screen.query_one("#import-go", Button).press()  # nothing new ticked
        await wait_until(pilot, lambda: app.outcomes, what="the import")
        outcome = app.outcomes[0]
        assert outcome is not None
        app.push_screen(ImportResultScreen(outcome))
        await pilot.pause()
        shown = str(app.screen.query_one("#import-result").render())
    assert "nothing changed" not in shown
    assert "workspace settings written: console_url, console_email, workspace_id" in shown
    assert "helpdesk: recorded " in shown and "app_uuid" in shown and "name" in shown
    written = path.read_text()
    assert "console_url" in written and "app_uuid" in written
