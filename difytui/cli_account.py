"""``difytui login`` / ``difytui logout``: an account workspace over Dify's ``/openapi/v1``."""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from collections.abc import Callable

from difytui.account import DEFAULT_CLIENT_ID, AccountClient, LoginError
from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from difytui.cliutil import say as _say
from difytui.errors import ConfigError, DifyError
from difytui.tokens import TokenStore, normalize_server


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    global_options: Callable[..., None],
) -> None:
    login = commands.add_parser(
        "login",
        help="log in to a Dify server's account API (device flow) and add its workspace to the config",
        description="Opens the OAuth device flow: approve the code shown here in Dify's web console. "
        "Needs Dify 1.14+ with OPENAPI_ENABLED=true (or Dify Cloud).",
    )
    global_options(login, suppress=True)
    login.add_argument(
        "--server", required=True, metavar="URL", help="the Dify server, e.g. https://dify.example.com"
    )
    login.add_argument(
        "--client-id",
        default=DEFAULT_CLIENT_ID,
        metavar="ID",
        help=f"an OAuth client id the server accepts (default {DEFAULT_CLIENT_ID}; OPENAPI_KNOWN_CLIENT_IDS)",
    )
    login.add_argument("--no-browser", action="store_true", help="do not open the verification page")
    login.add_argument(
        "--workspace-id", metavar="ID", help="Dify workspace to use (default: the account's default)"
    )
    login.add_argument(
        "--name", metavar="NAME", help="name of the workspace in the config (default: from Dify)"
    )

    logout = commands.add_parser("logout", help="revoke the login for a server and forget its token")
    global_options(logout, suppress=True)
    logout.add_argument("--server", required=True, metavar="URL", help="the Dify server")


def login(args: argparse.Namespace, *, sleep: Callable[[float], None] | None = None) -> int:
    from difytui.config_writer import (
        WorkspaceUpdate,
        apply_update,
        check_writable,
        load_document,
        write_config,
    )
    from difytui.importer import default_config_path, slugify

    server = normalize_server(args.server)
    path = default_config_path(args.config)
    check_writable(path)  # before the browser round trip: a login that cannot be saved is wasted
    store = TokenStore()
    with AccountClient(server) as client:
        client.version()
        code = client.request_code(args.client_id)
        _say(f"To log in, open {code.verification_uri} and enter the code {code.user_code}")
        if not args.no_browser and sys.stdin.isatty():
            opened = webbrowser.open(code.verification_uri)
            _say("(the page was opened in your browser)" if opened else "(open it in a browser)")
        _say("Waiting for approval… (Ctrl+C to cancel)")
        result = client.poll(code, args.client_id, sleep=sleep or time.sleep)
    store.save(server, result.token, result.info())
    email = result.account.get("email", "?")
    _say(f"Logged in to {server} as {email}; the token is kept in {store.storage} (never shown).")

    workspaces = {ws.get("id"): ws for ws in result.workspaces}
    workspace_id = args.workspace_id or result.default_workspace_id or next(iter(workspaces), "")
    if workspace_id not in workspaces:
        known = ", ".join(f"{ws.get('id')} ({ws.get('name')})" for ws in result.workspaces) or "none"
        _say(f"difytui: the account has no workspace {workspace_id!r} (it has: {known})")
        return EXIT_USAGE
    name = args.name or slugify(str(workspaces[workspace_id].get("name") or ""), "account")
    doc = load_document(path)
    settings = {"kind": "account", "server": server, "workspace_id": workspace_id}
    apply_update(doc, WorkspaceUpdate(name=name, settings=settings))
    write_config(path, doc)
    label = workspaces[workspace_id].get("name")
    _say(f"Workspace {name!r} ({label}) is in {path}: run `difytui --workspace {name}`.")
    if len(workspaces) > 1:
        others = ", ".join(
            f"{ws.get('name')} ({ws_id})" for ws_id, ws in workspaces.items() if ws_id != workspace_id
        )
        _say(f"Other workspaces of this account: {others} (log in again with --workspace-id to add one).")
    return EXIT_OK


def logout(args: argparse.Namespace) -> int:
    server = normalize_server(args.server)
    store = TokenStore()
    token = store.get(server)
    if token is None:
        _say(f"difytui: not logged in to {server}")
        return EXIT_USAGE
    revoked = True
    try:
        with AccountClient(server) as client:
            client.revoke(token)
    except DifyError as error:
        revoked = False
        _say(f"difytui: could not revoke the token on the server ({error}); forgetting it here anyway")
    store.delete(server)
    _say(f"Logged out of {server}" + ("" if revoked else " (locally)"))
    return EXIT_OK if revoked else EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    try:
        return login(args) if args.command == "login" else logout(args)
    except KeyboardInterrupt:
        _say(f"difytui: {args.command} cancelled")
        return EXIT_INTERRUPTED
    except LoginError as error:
        _say(f"difytui: login failed: {error}")
        return EXIT_USAGE if error.reason == "unsupported_client" else EXIT_ERROR
    except ConfigError as error:
        _say(f"difytui: {error}")
        return EXIT_USAGE
    except DifyError as error:
        _say(f"difytui: {error}")
        return EXIT_ERROR
