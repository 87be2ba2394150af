"""Import apps from the Dify console: a modal form over the same steps as ``difytui workspace import``.

Log in (the password Input is masked and cleared once used), pick the Dify workspace when the
account has several, tick the apps, confirm key creation / API enabling with checkboxes, choose where
the keys go, import. Every network step runs in a thread worker (:mod:`difytui.importer` is sync
httpx) and reports back with a message; widgets are only touched on the UI thread.

Push it with ``app.push_screen(ImportConsoleScreen(config_path, workspace_name), callback)``; it
dismisses with an :class:`ImportOutcome` (or None when cancelled); :mod:`.import_result` has it
and :class:`ImportResultScreen`, which shows it (both re-exported here).

Console text (workspace and app names) is data: it reaches widgets as ``rich.text.Text``, never as
a markup string.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from difytui import config_writer, importer
from difytui.console import ConsoleSession
from difytui.importer import Choices, ImportPlan, ImportResult
from difytui.tui.safe_text import one_line
from difytui.tui.screens.import_result import ImportOutcome, ImportResultScreen, config_changes, config_state
from difytui.tui.widgets.app_checklist import AppChecklist

__all__ = ["ImportConsoleScreen", "ImportOutcome", "ImportResultScreen"]


class ImportConsoleScreen(ModalScreen["ImportOutcome | None"]):
    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "cancel", "Cancel", id="import.cancel")]

    # Worker → screen reports (posted from the worker thread; handled on the UI thread).
    class _LoggedIn(Message):
        def __init__(self, session: ConsoleSession, workspaces: list[dict], chosen: dict | None) -> None:
            super().__init__()
            self.session, self.workspaces, self.chosen = session, workspaces, chosen

    class _Planned(Message):
        def __init__(self, plan: ImportPlan) -> None:
            super().__init__()
            self.plan = plan

    class _Done(Message):
        def __init__(self, result: ImportResult, written: list[str]) -> None:
            super().__init__()
            self.result, self.written = result, written

    class _Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, config_path: Path | None = None, workspace_name: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.config_path = importer.default_config_path(config_path)
        self.workspace_name = workspace_name
        self.saved: dict[str, Any] = {}
        self.session: ConsoleSession | None = None
        self.workspaces: list[dict] = []
        self.workspace: dict | None = None
        self.email = ""
        self.plan: ImportPlan | None = None
        self.choices: Choices | None = None
        #: held by every step that uses the session, so closing it waits for the step
        self._session_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        try:
            doc = config_writer.load_document(self.config_path)
            if self.workspace_name:
                self.saved = config_writer.workspace_settings(doc, self.workspace_name) or {}
        except Exception:  # a broken config is reported by the import itself, not here
            self.saved = {}
        with VerticalScroll(id="import-box"):
            yield Static(Text("Import apps from the Dify console", style="bold"))
            with Vertical(id="import-login"):
                yield Input(
                    self.saved.get("console_url", ""),
                    placeholder="Console URL, e.g. https://dify.example.com",
                    id="import-url",
                )
                yield Input(self.saved.get("console_email", ""), placeholder="Email", id="import-email")
                yield Input(placeholder="Password (not stored)", password=True, id="import-password")
            yield Select[str]([], prompt="Dify workspace", id="import-workspace", classes="hidden")
            with Vertical(id="import-choices", classes="hidden"):
                yield AppChecklist(id="import-apps")
                yield Checkbox("Create an API key for ticked apps that have none", id="import-create")
                yield Checkbox("Enable the Service API of ticked apps that have it off", id="import-enable")
                with RadioSet(id="import-keys"):
                    yield RadioButton("Keys in the config file (0600)", value=True, id="keys-config")
                    yield RadioButton("Keys in an env file beside it (api_key_env)", id="keys-env")
                    yield RadioButton("Keys read by a command (api_key_cmd)", id="keys-cmd")
                yield Input(
                    Choices(selected=[]).key_cmd, placeholder="Key command with {app}", id="import-cmd"
                )
            yield Static("", id="import-status")
            with Horizontal(id="import-buttons"):
                yield Button("Log in", variant="primary", id="import-go")
                yield Button("Cancel", id="import-cancel")

    def on_mount(self) -> None:
        first_empty = next(
            (i for i in self.query(Input) if not i.value and i.id != "import-cmd"), self.query_one(Input)
        )
        first_empty.focus()

    # --- steps ----------------------------------------------------------------------------------

    def status(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#import-status", Static)
        widget.update(Text(one_line(text)))
        widget.set_class(error, "error")

    def busy(self, text: str) -> None:
        self.status(text)
        self.query_one("#import-go", Button).disabled = True

    def _work(self, job: Callable[[], Message]) -> None:
        def run() -> None:
            try:
                message = job()
            except Exception as error:  # DifyError, ConfigError, ImportUsageError: all user-readable
                message = self._Failed(str(error))
            self.post_message(message)

        self.run_worker(
            run, name="console import", thread=True, group="import", exclusive=True, exit_on_error=False
        )

    @on(Button.Pressed, "#import-go")
    @on(Input.Submitted)
    def go(self) -> None:
        if self.query_one("#import-go", Button).disabled:
            return
        if self.session is None:
            self.login()
        elif self.plan is None:
            self.load_plan()
        else:
            self.run_import()

    def login(self) -> None:
        url = self.query_one("#import-url", Input).value.strip()
        email = self.query_one("#import-email", Input).value.strip()
        password_input = self.query_one("#import-password", Input)
        password = password_input.value
        if not (url and email and password):
            self.status("Console URL, email and password are all needed.", error=True)
            return
        password_input.value = ""  # it has done its job: do not keep it in a widget
        wanted = self.saved.get("workspace_id")
        self.busy(f"Logging in to {url}…")

        def job() -> Message:
            session = importer.login(url, email, password)
            try:
                workspaces = session.workspaces()
                try:
                    chosen = importer.pick_workspace(workspaces, wanted)
                except importer.ImportUsageError:
                    chosen = None  # the saved workspace is gone: let the user pick
            except BaseException:
                session.close()
                raise
            return self._LoggedIn(session, workspaces, chosen)

        self.email = email
        self._work(job)

    @on(_LoggedIn)
    def _logged_in(self, message: _LoggedIn) -> None:
        self.session, self.workspaces = message.session, message.workspaces
        self.query_one("#import-login").add_class("hidden")
        if message.chosen is not None:
            self.load_plan(message.chosen)
            return
        select = self.query_one("#import-workspace", Select)
        current = next((w for w in self.workspaces if w.get("current")), self.workspaces[0])
        # Text, not str: Select's option list would parse a str prompt as markup.
        select.set_options(
            [(Text(one_line(w.get("name") or w["id"])), str(w["id"])) for w in self.workspaces]
        )
        select.value = str(current["id"])
        select.remove_class("hidden")
        select.focus()
        self.query_one("#import-go", Button).label = "List apps"
        self.query_one("#import-go", Button).disabled = False
        self.status("This account has several workspaces: choose one.")

    def load_plan(self, workspace: dict | None = None) -> None:
        if workspace is None and self.workspace is None:
            chosen_id = self.query_one("#import-workspace", Select).value
            workspace = next((w for w in self.workspaces if str(w["id"]) == chosen_id), None)
            if workspace is None:
                self.status("Choose a workspace.", error=True)
                return
        self.workspace = workspace or self.workspace
        chosen = self.workspace
        session, email = self.session, self.email
        assert session is not None and chosen is not None
        self.busy(f"Listing the apps of {chosen.get('name')}…")

        def job() -> Message:
            # Switched back before the user looks at the list: the switch is account-wide.
            with self._session_lock, importer.in_workspace(session, chosen):
                plan = importer.build_plan(
                    session,
                    email=email,
                    workspace=chosen,
                    config_path=self.config_path,
                    config_workspace=self.workspace_name,
                )
            return self._Planned(plan)

        self._work(job)

    @on(_Planned)
    def _planned(self, message: _Planned) -> None:
        plan = self.plan = message.plan
        self.query_one("#import-workspace").add_class("hidden")
        apps = self.query_one("#import-apps", SelectionList)
        for title, group in plan.groups():
            for app in group:
                label = Text(f"{title:<10} ", style="dim")
                label.append(f"{one_line(app.name)} [{app.badge}]")
                label.append(f" — {app.status}", style="dim")
                # Apps already imported are shown ticked and fixed: a re-import always keeps them.
                apps.add_option((label, app.uuid, app.in_config))
                if app.in_config:
                    apps.get_option_at_index(apps.option_count - 1).disabled = True
        self.query_one("#import-choices").remove_class("hidden")
        self.query_one("#import-cmd").display = False
        go = self.query_one("#import-go", Button)
        go.label, go.disabled = "Import", False
        gone = f"; {len(plan.gone)} gone from Dify will be marked deleted" if plan.gone else ""
        self.status(f"{len(plan.apps)} apps in {plan.workspace_label} → [{plan.config_workspace}]{gone}")
        apps.focus()

    @on(RadioSet.Changed, "#import-keys")
    def _keys_changed(self, event: RadioSet.Changed) -> None:
        self.query_one("#import-cmd").display = event.pressed.id == "keys-cmd"

    def run_import(self) -> None:
        plan, session = self.plan, self.session
        assert plan is not None and session is not None
        ticked = set(self.query_one("#import-apps", SelectionList).selected)
        pressed = self.query_one("#import-keys", RadioSet).pressed_button
        choices = self.choices = Choices(
            selected=[app for app in plan.new_apps if app.uuid in ticked],
            create_keys=self.query_one("#import-create", Checkbox).value,
            enable_api=self.query_one("#import-enable", Checkbox).value,
            keys=(pressed.id or "keys-config").removeprefix("keys-") if pressed else "config",  # type: ignore[arg-type]
            key_cmd=self.query_one("#import-cmd", Input).value.strip(),
        )
        self.busy("Importing…")

        workspace = self.workspace
        assert workspace is not None

        def job() -> Message:
            with self._session_lock:
                with importer.in_workspace(session, workspace):
                    result = importer.execute(session, plan, choices)
                before = config_state(self.config_path, plan.config_workspace)
                importer.save(result, self.config_path, choices)
                written = config_changes(before, config_state(self.config_path, plan.config_workspace))
                session.logout()
            return self._Done(result, written)

        self._work(job)

    @on(_Done)
    def _done(self, message: _Done) -> None:
        result = message.result
        lines = [f"{app.id}: {how}" for app, how in result.imported]
        lines += [f"{app.id}: not imported: {why}" for app, why in result.skipped]
        lines += [f"{app_id}: gone from Dify, marked deleted" for app_id in result.plan.gone]
        said = {app.id for app, _how in result.imported} | set(result.plan.gone)
        lines += [line for line in message.written if line.split(":", 1)[0] not in said]
        if result.env_file:
            lines.append(f"keys written to {result.env_file} (0600): load it with  . {result.env_file}")
        lines += [
            f"store {app.name}'s key ({token}) so that `{cmd}` prints it"
            for app, cmd, token in result.cmd_entries
        ]
        outcome = ImportOutcome(self.config_path, result.plan.config_workspace, lines)
        self._close_session()
        self.dismiss(outcome)

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        self.status(message.text, error=True)
        go = self.query_one("#import-go", Button)
        go.disabled = False
        if self.plan is None and self.session is None:
            self.query_one("#import-login").remove_class("hidden")
            self.query_one("#import-password", Input).focus()

    # --- leaving --------------------------------------------------------------------------------

    def _close_session(self) -> None:
        """Log out and close, off the UI thread, after any step still using the session.

        A plain thread, not a worker: it must finish (switching the account back to its workspace
        if a step was cut short) even when the screen or the app is going away."""
        session, self.session = self.session, None
        if session is None:
            return

        def end() -> None:
            with self._session_lock, contextlib.suppress(Exception):
                if session.has_session:
                    session.logout()  # also switches the account back, if a step left it switched
                session.close()

        threading.Thread(target=end, name="difytui-import-logout").start()

    def action_cancel(self) -> None:
        self._close_session()
        self.dismiss(None)

    @on(Button.Pressed, "#import-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def on_unmount(self) -> None:
        self._close_session()
