"""Where a workspace's apps live and how each request reaches them.

``ServiceBackend``: Dify's Service API (``/v1``), one key per app, apps listed in the config.
``AccountBackend``: Dify's account API (``/openapi/v1``), one login token, apps listed by the server.
Both hand the client the same things (``Call``s and flows), so everything above them — the client,
the CLI, the TUI — works the same on either kind of workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from difytui._http import Call, Flow
from difytui.errors import AppNotFoundError, DifyAPIError, DifyError
from difytui.models import Interface
from difytui.secrets import token_problem

if TYPE_CHECKING:
    from difytui.config import Workspace
    from difytui.flows import ClientCore
    from difytui.secrets import Secret

_RUN_PATHS = {"chat": "/chat-messages", "completion": "/completion-messages", "workflow": "/workflows/run"}
_STOP_PATHS = {
    "chat": "/chat-messages/{task_id}/stop",
    "completion": "/completion-messages/{task_id}/stop",
    "workflow": "/workflows/tasks/{task_id}/stop",
}
#: The account API's page size (its service layer caps pages at 100).
ACCOUNT_PAGE_SIZE = 100


class Backend(Protocol):
    """What the client asks of a workspace's backend. Flows are generators the client drives:
    they yield ``Call``s (made through ``core``) and return their result."""

    #: Runs are streamed even when blocking was asked for (the client folds the events).
    always_streams: bool
    #: Conversations and messages can be listed.
    has_history: bool
    #: Requests carry the ``user`` field (the Service API's end-user id).
    sends_user: bool
    #: Advice added to a 401 (check the key, or log in again).
    auth_hint: str

    def token(self, app_id: str | None) -> str:
        """The bearer token for a request about ``app_id`` (None: not about one app)."""
        ...

    def app_ids_flow(self, core: ClientCore[Any, Any]) -> Flow[list[str]]:
        """The workspace's app ids."""
        ...

    def known_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[None]:
        """Raise ``AppNotFoundError`` unless ``app_id`` is one of the workspace's apps."""
        ...

    def info_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        """The app's /info (name, description, tags, mode, author_name)."""
        ...

    def parameters_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        """The app's /parameters (its form, opening statement…)."""
        ...

    def run_call(self, interface: Interface, app_id: str, body: dict[str, Any], streaming: bool) -> Call: ...

    def stop_call(self, interface: Interface, app_id: str, task_id: str) -> Call: ...

    def upload_call(self, app_id: str, path: Path) -> Call: ...

    def history_path(self, what: str) -> str:
        """The path listing ``what`` (conversations, messages); raises where there is no history."""
        ...

    def form_path(self, app_id: str, form_token: str) -> str:
        """The path of a Human Input form (GET reads it, POST submits it)."""
        ...

    def events_path(self, app_id: str, workflow_run_id: str) -> str:
        """The path that re-attaches to a workflow or chatflow run's events."""
        ...

    def check_token_flow(self, core: ClientCore[Any, Any], error: DifyAPIError) -> Flow[None]:
        """After ``error``: raise a clearer one when the cause is an expired or revoked login."""
        ...


class ServiceBackend:
    """Per-app Service API keys; the apps are the config's."""

    kind = "keys"
    always_streams = False
    has_history = True
    sends_user = True
    auth_hint = "check the app's API key"

    def __init__(self, workspace: Workspace, user: str) -> None:
        self.workspace = workspace
        self.user = user

    def token(self, app_id: str | None) -> str:
        entry = self.workspace.apps.get(app_id) if app_id is not None else None
        if entry is None:
            raise AppNotFoundError(app_id or "", self.workspace.name, list(self.workspace.apps))
        return entry.key().reveal()

    def app_ids_flow(self, core: ClientCore[Any, Any]) -> Flow[list[str]]:
        yield from ()  # a flow, though it needs no request
        return [app_id for app_id, entry in self.workspace.apps.items() if not entry.deleted]

    def known_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[None]:
        yield from ()
        if app_id not in self.workspace.apps:
            raise AppNotFoundError(app_id, self.workspace.name, list(self.workspace.apps))

    def info_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        yield from self.known_flow(core, app_id)
        return (yield from core._read_flow(Call("GET", "/info", app_id)))

    def parameters_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        yield from self.known_flow(core, app_id)
        return (yield from core._read_flow(Call("GET", "/parameters", app_id)))

    def run_call(self, interface: Interface, app_id: str, body: dict[str, Any], streaming: bool) -> Call:
        body = {**body, "response_mode": "streaming" if streaming else "blocking", "user": self.user}
        return Call("POST", _RUN_PATHS[interface], app_id, json=body, stream=streaming)

    def stop_call(self, interface: Interface, app_id: str, task_id: str) -> Call:
        return Call("POST", _STOP_PATHS[interface].format(task_id=task_id), app_id, json={"user": self.user})

    def upload_call(self, app_id: str, path: Path) -> Call:
        return Call("POST", "/files/upload", app_id, upload=path, form={"user": self.user})

    def history_path(self, what: str) -> str:
        return f"/{what}"

    def form_path(self, app_id: str, form_token: str) -> str:
        return f"/form/human_input/{form_token}"

    def events_path(self, app_id: str, workflow_run_id: str) -> str:
        return f"/workflow/{workflow_run_id}/events"

    def check_token_flow(self, core: ClientCore[Any, Any], error: DifyAPIError) -> Flow[None]:
        yield from ()  # a key is not a login: nothing to check


class AccountBackend:
    """A ``difytui login`` token on ``/openapi/v1``: the server lists the workspace's apps."""

    kind = "account"
    always_streams = True  # /apps/<id>/run has no blocking mode: blocking calls fold the stream
    has_history = False  # the account API has no conversation or message history (1.14.2)
    sends_user = False  # runs are attributed to the account
    auth_hint = "log in again with `difytui login`"

    def __init__(self, workspace: Workspace, user: str, token: Secret | None = None) -> None:
        self.workspace = workspace
        self.user = user
        self._token = token
        self._catalog: dict[str, dict[str, Any]] | None = None

    def token(self, app_id: str | None = None) -> str:
        if self._token is None:
            from difytui.tokens import TokenStore

            self._token = TokenStore().get(self.workspace.server)
        server = self.workspace.server
        if self._token is None:
            raise DifyError(f"not logged in to {server}: run `difytui login --server {server}`")
        problem = token_problem(self._token.reveal())
        if problem:
            raise DifyError(f"the stored login for {server} is not usable ({problem}): run `difytui login`")
        return self._token.reveal()

    def catalog_flow(self, core: ClientCore[Any, Any]) -> Flow[dict[str, dict[str, Any]]]:
        """Every app of the workspace (all pages), by Dify app id; fetched once per client."""
        if self._catalog is None:
            catalog: dict[str, dict[str, Any]] = {}
            page = 1
            while True:
                params = {
                    "workspace_id": self.workspace.workspace_id,
                    "page": page,
                    "limit": ACCOUNT_PAGE_SIZE,
                }
                listing = yield from core._read_flow(Call("GET", "/apps", None, params=params))
                apps = [app for app in listing.get("data") or [] if isinstance(app, dict) and app.get("id")]
                for app in apps:
                    catalog[str(app["id"])] = app
                if not listing.get("has_more") or not apps:
                    break
                page += 1
            self._catalog = catalog
        return self._catalog

    def app_ids_flow(self, core: ClientCore[Any, Any]) -> Flow[list[str]]:
        return list((yield from self.catalog_flow(core)))

    def known_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[None]:
        catalog = yield from self.catalog_flow(core)
        if app_id not in catalog:
            names = [f"{key} ({app.get('name')})" for key, app in catalog.items()]
            raise AppNotFoundError(app_id, self.workspace.name, names)

    def info_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        yield from self.known_flow(core, app_id)
        app = (yield from self.catalog_flow(core))[app_id]  # cached by known_flow: no request
        tags = [tag.get("name") if isinstance(tag, dict) else tag for tag in app.get("tags") or []]
        return {
            "name": app.get("name"),
            "description": app.get("description") or "",
            "tags": tags,
            "mode": app.get("mode"),
            "author_name": app.get("created_by_name"),
        }

    def parameters_flow(self, core: ClientCore[Any, Any], app_id: str) -> Flow[dict[str, Any]]:
        yield from self.known_flow(core, app_id)
        call = Call("GET", f"/apps/{app_id}/describe", app_id, params={"fields": "parameters"})
        described = yield from core._read_flow(call)
        parameters = described.get("parameters")
        return parameters if isinstance(parameters, dict) else {}

    def run_call(self, interface: Interface, app_id: str, body: dict[str, Any], streaming: bool) -> Call:
        return Call("POST", f"/apps/{app_id}/run", app_id, json=body, stream=True)

    def stop_call(self, interface: Interface, app_id: str, task_id: str) -> Call:
        return Call("POST", f"/apps/{app_id}/tasks/{task_id}/stop", app_id)

    def upload_call(self, app_id: str, path: Path) -> Call:
        return Call("POST", f"/apps/{app_id}/files/upload", app_id, upload=path)

    def history_path(self, what: str) -> str:
        raise DifyError(
            f"{what} are not available on an account workspace: Dify's account API has no history "
            "(use a workspace with the app's API key for that)"
        )

    def form_path(self, app_id: str, form_token: str) -> str:
        return f"/apps/{app_id}/form/human_input/{form_token}"

    def events_path(self, app_id: str, workflow_run_id: str) -> str:
        # the segment is named task_id, but Dify wants the workflow run id there (protocol §6)
        return f"/apps/{app_id}/tasks/{workflow_run_id}/events"

    def check_token_flow(self, core: ClientCore[Any, Any], error: DifyAPIError) -> Flow[None]:
        """Dify 1.14.2 answers an expired or revoked token with a 500: ask /account whether it is that."""
        if error.status != 500:
            return
        try:
            yield Call("GET", "/account", None)
        except DifyAPIError as probe:
            if probe.status in (401, 500):
                server = self.workspace.server
                raise DifyAPIError(
                    401,
                    "token_invalid",
                    f"the login for {server} is no longer valid (expired or revoked)",
                    url=error.url,
                    hint=f"run `difytui login --server {server}`",
                ) from None
