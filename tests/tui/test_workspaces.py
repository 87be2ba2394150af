"""Both kinds of discovered workspace look the same in the console, and the palette offers the import."""

from __future__ import annotations

import io

from helpers import account_workspace, device_login
from textual.widgets import Input

from difytui.cli import main
from difytui.client import AsyncDify
from difytui.config import load_config
from difytui.models import MODE_LABELS
from difytui.store import Store
from difytui.tui.app import DifyConsole

from .conftest import SIZE, apps_loaded, open_app, run_done, type_text, wait_until


async def discovered(pilot, app: DifyConsole) -> None:
    """An account workspace starts with no configured apps: wait for the server's list."""
    await wait_until(pilot, lambda: app.app_items() and all(i.mode for i in app.app_items()), what="apps")


def id_of(app: DifyConsole, name: str) -> str:
    return next(item.id for item in app.app_items() if item.name == name)


def account_console(sim, store: Store | None = None) -> DifyConsole:
    login = device_login(sim)
    workspace = account_workspace(sim, login)
    return DifyConsole(workspace, client=AsyncDify(workspace=workspace, token=login.token), store=store)


def imported_console(sim, tmp_path, monkeypatch) -> DifyConsole:
    config = tmp_path / "imported.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO(sim.account_password + "\n"))
    code = main(
        [
            "workspace", "import", "--config", str(config), "--console-url", sim.console_url,
            "--email", sim.account_email, "--password-stdin", "--dify-workspace", "Demo Workspace",
            "--all", "--yes",
        ]
    )  # fmt: skip
    assert code == 0
    workspace = load_config(config).workspace()
    return DifyConsole(workspace)


def sidebar(app: DifyConsole) -> list[tuple[str | None, str, str]]:
    """(interface, badge, name) per app, in the order the sidebar shows them."""
    return sorted((item.interface, MODE_LABELS.get(item.mode, "?"), item.name) for item in app.app_items())


async def test_account_and_imported_workspaces_show_the_same_grouping_and_badges(sim, tmp_path, monkeypatch):
    account = account_console(sim)
    async with account.run_test(size=SIZE) as pilot:
        await discovered(pilot, account)
        from_account = sidebar(account)
        shown = account.query_one("#app-options").render_lines  # rendered: headings and badges
        assert shown
    imported = imported_console(sim, tmp_path, monkeypatch)
    async with imported.run_test(size=SIZE) as pilot:
        await apps_loaded(pilot, imported)
        from_import = sidebar(imported)
    assert from_account == from_import
    assert {interface for interface, _badge, _name in from_account} == {"chat", "workflow", "completion"}
    assert ("chat", "chatflow", "Trip Planner") in from_account


async def test_an_account_workspace_runs_a_chat_and_says_history_is_unavailable(sim):
    store = Store()  # the same state database for both runs, as after a restart
    app = account_console(sim, store)
    async with app.run_test(size=SIZE) as pilot:
        await discovered(pilot, app)
        pane = await open_app(pilot, app, id_of(app, "Trip Planner"), typed="trip")
        await type_text(pilot, "Lyon")
        pane.prompt.focus()
        await type_text(pilot, "what to eat")
        await pilot.press("enter")
        await run_done(pilot, pane)
        assert pane.conversation_id
        run = [r for r in sim.requests if r.path.endswith("/run") and r.path.startswith("/openapi/v1/apps/")]
        assert run and run[-1].json["inputs"]["city"] == "Lyon"
        conversation = pane.conversation_id

    again = account_console(sim, store)
    async with again.run_test(size=SIZE) as pilot:
        await discovered(pilot, again)
        pane = await open_app(pilot, again, id_of(again, "Trip Planner"), typed="trip")
        assert pane.conversation_id == conversation
        await wait_until(pilot, lambda: pane.log_view.query(".history-sep"), what="history note")
        note = str(pane.log_view.query(".history-sep").first().render())
        assert "no conversation history" in note


async def test_command_palette_offers_the_console_import(sim):
    from difytui.tui.screens.import_console import ImportConsoleScreen

    app = account_console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen.query(Input), what="palette")
        await type_text(pilot, "import apps")
        await pilot.pause(0.3)
        await pilot.press("enter")
        screen = await wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, ImportConsoleScreen) else None, what="import"
        )
        password = screen.query_one("#import-password", Input)
        assert password.password is True  # typed characters are masked


def test_notices_carry_the_backends_advice_not_always_the_key_hint():
    from difytui.errors import DifyAPIError
    from difytui.tui.runner import describe_error

    text, code, status = describe_error(
        DifyAPIError(401, "token_invalid", "the login expired", hint="run `difytui login --server x`")
    )
    assert (code, status) == ("token_invalid", 401)
    assert "difytui login" in text and "API key" not in text
