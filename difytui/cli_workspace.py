"""``difytui workspace import``: bring a Dify workspace's apps and their keys into the config.

Interactive on a terminal (password by getpass, numbered app list, confirmations); every answer also
has a flag, and without a terminal a missing answer is exit 2 with the flag to use, never a hang.
The steps themselves are :mod:`difytui.importer`'s, shared with the TUI's import screen.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from difytui import config_writer, importer
from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import ConfigError, DifyError
from difytui.importer import Choices, ImportPlan, ImportResult, ImportUsageError, KeyDestination, PlannedApp
from difytui.text import printable


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], global_options: Callable[..., None]
) -> None:
    """``workspace import``; ``global_options(parser, suppress=True)`` adds --config/--workspace."""
    workspace = subparsers.add_parser("workspace", help="import a workspace's apps from the Dify console")
    global_options(workspace, suppress=True)
    actions = workspace.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="log in to the Dify console and add the workspace's apps and keys to the config",
        description="Log in to the Dify console, list the workspace's apps and write them, with their "
        "Service API keys, to the config (mode 0600). Re-running it adds new apps and marks apps gone from "
        "Dify `deleted = true`; your own edits stay. --workspace names the config workspace to write.",
    )
    global_options(imp, suppress=True)
    imp.add_argument("--console-url", metavar="URL", help="the Dify console, e.g. https://dify.example.com")
    imp.add_argument("--email", metavar="EMAIL", help="the account's email")
    imp.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    imp.add_argument(
        "--dify-workspace", metavar="NAME|ID", help="the Dify workspace (when the account has several)"
    )
    which = imp.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="import every app that is not in the config yet")
    which.add_argument("--apps", metavar="A,B", help="import these apps (config ids, Dify names or ids)")
    imp.add_argument(
        "--yes", "-y", action="store_true", help="create an API key for picked apps that have none"
    )
    imp.add_argument(
        "--enable-api", action="store_true", help="enable the Service API of picked apps that have it off"
    )
    imp.add_argument(
        "--keys",
        choices=importer.KEY_DESTINATIONS,
        help="where the keys go: the config (default), a 0600 env file beside it, or a command (--key-cmd)",
    )
    imp.add_argument(
        "--key-cmd",
        metavar="TEMPLATE",
        help="command that prints a key, with {app} and optionally {workspace}, e.g. 'pass show dify/{app}' "
        "(implies --keys cmd)",
    )


def run(args: argparse.Namespace) -> int:
    job: _Import | None = None
    try:
        job = _Import(args)
        return job.run()
    except (ConfigError, ImportUsageError) as error:
        _say(f"difytui: {error}")
        return job.stranded(EXIT_USAGE) if job else EXIT_USAGE
    except DifyError as error:
        _say(f"difytui: {error}")
        return job.stranded(EXIT_ERROR) if job else EXIT_ERROR
    except EOFError:
        _say("difytui: input ended before the import was confirmed")
        return EXIT_USAGE
    except KeyboardInterrupt:
        # The session was logged out and the account switched back to its workspace on the way
        # here (importer.login, importer.in_workspace and run's finally).
        if job is not None and job.at_prompt:
            print(file=sys.stderr)  # end the prompt's line
        _say(f"difytui: interrupted; {job.interrupted() if job else 'nothing was written'}")
        return EXIT_INTERRUPTED


class _Import:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        # With the password on stdin, stdin is not there to answer questions.
        self.tty = sys.stdin.isatty() and not args.password_stdin
        self.config_path = importer.default_config_path(args.config)
        self.stage = "setup"  # → "dify" (keys may be created) → "writing"
        self.at_prompt = False
        self.result: ImportResult | None = None

    # --- asking ---------------------------------------------------------------------------------

    def ask(self, prompt: str, flag: str) -> str:
        if not self.tty:
            raise ImportUsageError(f"{prompt.rstrip(': ')} is needed: give {flag} (no terminal to ask)")
        print(prompt, end="", file=sys.stderr, flush=True)
        self.at_prompt = True
        line = sys.stdin.readline()
        self.at_prompt = False
        if not line:
            raise EOFError
        return line.strip()

    def confirm(self, question: str) -> bool:
        return self.ask(f"{question} [y/N]: ", "").lower() in ("y", "yes")

    def password(self) -> str:
        if self.args.password_stdin:
            line = sys.stdin.readline()
            password = line[:-1] if line.endswith("\n") else line
            password = password[:-1] if password.endswith("\r") else password
            if not password:
                raise ImportUsageError("--password-stdin: stdin gave no password")
            return password
        if not self.tty:
            raise ImportUsageError(
                "the password is needed: pipe it in with --password-stdin (no terminal to ask)"
            )
        self.at_prompt = True
        password = getpass.getpass("Password (not shown, never stored): ", stream=sys.stderr)
        self.at_prompt = False
        return password

    # --- how it ended ---------------------------------------------------------------------------

    def interrupted(self) -> str:
        """What a Ctrl+C left behind, for the one line that reports it."""
        if self.stage == "writing":
            return f"{self.config_path} was either written completely or left as it was"
        if self.stage == "dify":
            return "the config was not changed (keys created in Dify stay there; the next import reuses them)"
        return "nothing was written"

    def stranded(self, code: int) -> int:
        """After a failed write: say where the keys just created are (never the keys themselves)."""
        created = (
            [app.id for app, how in self.result.imported if how.startswith("created")] if self.result else []
        )
        if created and self.stage == "writing":
            _say(
                f"difytui: the keys created for {', '.join(created)} stay in Dify; "
                "fix the above and run the import again: it reuses them"
            )
        return code

    # --- the import -----------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        if getattr(args, "demo", False):
            raise ImportUsageError("--demo has no Dify console to import from")
        # Fail before the password is asked when the config (or the env file) cannot be written.
        keys: KeyDestination = _key_destination(args.keys) or ("cmd" if args.key_cmd else "config")
        importer.check_destination(self.config_path, Choices(selected=[], keys=keys))
        doc = config_writer.load_document(self.config_path)
        saved = config_writer.workspace_settings(doc, args.workspace) if args.workspace else None
        saved = {k: str(v) for k, v in (saved or {}).items() if v not in (None, "")}
        console_url = (
            args.console_url or saved.get("console_url") or self.ask("Dify console URL: ", "--console-url")
        )
        email = args.email or saved.get("console_email") or self.ask("Email: ", "--email")
        password = self.password()
        with importer.login(console_url, email, password) as session:
            del password
            try:
                workspace = self.choose_workspace(session.workspaces(), saved.get("workspace_id"))
                # Switched only while Dify is read or changed, not while the user answers questions.
                with importer.in_workspace(session, workspace):
                    plan = importer.build_plan(
                        session,
                        email=email,
                        workspace=workspace,
                        config_path=self.config_path,
                        config_workspace=args.workspace,
                    )
                self.show(plan)
                choices = self.choices(plan)
                self.stage = "dify"
                with importer.in_workspace(session, workspace):
                    result = self.result = importer.execute(session, plan, choices)
            finally:
                session.logout()
        if not result.update.apps and config_writer.workspace_settings(doc, plan.config_workspace) is None:
            self.report(result, written=False)
            return EXIT_OK
        self.stage = "writing"
        importer.save(result, self.config_path, choices)
        self.report(result)
        return EXIT_OK

    def choose_workspace(self, workspaces: list[dict[str, Any]], saved_id: str | None) -> dict[str, Any]:
        wanted = self.args.dify_workspace or saved_id
        chosen = importer.pick_workspace(workspaces, wanted)
        if chosen is not None:
            return chosen
        if not self.tty:
            names = ", ".join(repr(w.get("name")) for w in workspaces)
            raise ImportUsageError(
                f"this account has several workspaces ({names}): choose with --dify-workspace"
            )
        current = next((n for n, w in enumerate(workspaces, 1) if w.get("current")), 1)
        print("Workspaces:", file=sys.stderr)
        for n, ws in enumerate(workspaces, 1):
            mark = "  (current)" if ws.get("current") else ""
            print(printable(f"  {n}  {ws.get('name')}{mark}"), file=sys.stderr)
        while True:
            answer = self.ask(f"Workspace [{current}]: ", "--dify-workspace") or str(current)
            if answer.isdigit() and 1 <= int(answer) <= len(workspaces):
                return workspaces[int(answer) - 1]
            try:
                found = importer.pick_workspace(workspaces, answer)
            except ImportUsageError as error:
                _say(str(error))
                continue
            if found is not None:
                return found

    def show(self, plan: ImportPlan) -> None:
        print(
            printable(
                f"Dify workspace {plan.workspace_label!r} → config workspace {plan.config_workspace!r} "
                f"({plan.base_url})"
            )
        )
        numbers = {app.uuid: n for n, app in enumerate(plan.new_apps, 1)}
        width = max((len(app.id) for app in plan.apps), default=0)
        for title, apps in plan.groups():
            print(f"\n{title}")
            for app in apps:
                label = f"{numbers[app.uuid]:>3}" if app.uuid in numbers else "  ·"
                print(printable(f"{label}  {app.id:<{width}}  {app.name} [{app.badge}] — {app.status}"))
        for app_id in plan.gone:
            print(printable(f"\n  -  {app_id}: no longer in Dify (will be marked deleted = true)"))
        sys.stdout.flush()

    def choices(self, plan: ImportPlan) -> Choices:
        args = self.args
        new = plan.new_apps
        if args.all:
            selected = new
        elif args.apps:
            selected = [app for app in plan.select(args.apps.split(",")) if not app.in_config]
        elif not new:
            selected = []
        else:
            selected = self.pick_apps(plan, new)
        needs_key = [app for app in selected if app.reusable_key is None and app.interface]
        disabled = [app for app in selected if not app.enable_api and app.interface]
        create = args.yes
        if needs_key and not create and self.tty:
            create = self.confirm(f"Create a new API key in Dify for {_names(needs_key)}?")
        enable = args.enable_api
        if disabled and not enable and self.tty:
            enable = self.confirm(f"Enable the Service API of {_names(disabled)}?")
        keys: KeyDestination | None = _key_destination(args.keys) or ("cmd" if args.key_cmd else None)
        if keys is None:
            keys = self.ask_keys() if self.tty and selected else "config"
        choices = Choices(selected=selected, create_keys=create, enable_api=enable, keys=keys)
        if keys == "cmd":
            choices.key_cmd = args.key_cmd or (
                (self.ask(f"Key command [{choices.key_cmd}]: ", "--key-cmd") or choices.key_cmd)
                if self.tty
                else choices.key_cmd
            )
            importer.check_key_cmd(choices.key_cmd)
        return choices

    def pick_apps(self, plan: ImportPlan, new: list[PlannedApp]) -> list[PlannedApp]:
        while True:
            answer = self.ask(
                "\nImport which apps? (numbers or ids, comma-separated; 'all'; empty: none): ",
                "--all or --apps",
            )
            if not answer:
                return []
            if answer.lower() == "all":
                return new
            try:
                items = [p.strip() for p in answer.split(",")]
                picked = [
                    new[int(p) - 1] if p.isdigit() and 1 <= int(p) <= len(new) else plan.select([p])[0]
                    for p in items
                    if p
                ]
            except ImportUsageError as error:
                _say(str(error))
                continue
            unique = {app.uuid: app for app in picked}  # keeps the first-picked order
            return [app for app in unique.values() if not app.in_config]

    def ask_keys(self) -> KeyDestination:
        while True:
            answer = self.ask(
                "Keep the keys in the config, an env file, or a command? [config/env/cmd] (config): ",
                "--keys",
            )
            chosen = _key_destination(answer.lower() or "config")
            if chosen is not None:
                return chosen
            _say("please answer config, env or cmd")

    def report(self, result: ImportResult, *, written: bool = True) -> None:
        plan = result.plan
        for app, how in result.imported:
            _say(f"  + {app.id}: {how}")
        for app, why in result.skipped:
            _say(f"  ! {app.id}: not imported: {why}")
        for app_id in plan.gone:
            _say(f"  - {app_id}: gone from Dify, marked deleted = true")
        if not written:
            _say("difytui: nothing to import; the config was not changed")
            return
        _say(f"difytui: wrote workspace {plan.config_workspace!r} to {self.config_path} (mode 0600)")
        if result.env_file:
            _say(
                f"difytui: the keys are in {result.env_file} (mode 0600); "
                f"load them before running difytui:  . {result.env_file}"
            )
        if result.cmd_entries:
            _say(
                "difytui: the config reads each key with a command; store these keys "
                "(copy them from the Dify console: app → API Access):"
            )
            for app, command, token in result.cmd_entries:
                _say(f"    `{command}` must print the key of {app.name} ({token})")


def _names(apps: list[PlannedApp]) -> str:
    return ", ".join(app.id for app in apps)


def _key_destination(value: str | None) -> KeyDestination | None:
    """``value`` as a key destination (config, env, cmd), or None."""
    for destination in importer.KEY_DESTINATIONS:
        if value == destination:
            return destination
    return None
