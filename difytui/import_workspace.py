"""The console session of an import: :func:`login`, :func:`pick_workspace` among the account's
workspaces, and :func:`in_workspace`, which switches the account to one and back again afterwards
(Dify's switch is account-wide: the web console and every other session would otherwise land
there too)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from difytui.console import ConsoleSession
from difytui.errors import DifyError, DifyProtocolError
from difytui.secrets import Secret

__all__ = ["ImportUsageError", "in_workspace", "login", "pick_workspace", "use_workspace", "workspace_id"]


class ImportUsageError(DifyError):
    """The import needs a choice it was not given (a flag, or an answer only a terminal can give)."""


def login(console_url: str, email: str, password: str | Secret, **session_kwargs: Any) -> ConsoleSession:
    """A logged-in session; closed again if the login fails or is interrupted."""
    session = ConsoleSession(console_url, **session_kwargs)
    try:
        session.login(email, password)
    except BaseException:
        # Ctrl+C may land after the server opened the session: end it there too.
        if session.has_session:
            # A second Ctrl+C here is swallowed: the first one is what the caller reports.
            with contextlib.suppress(Exception, KeyboardInterrupt):
                session.logout()
        session.close()
        raise
    return session


def pick_workspace(workspaces: list[dict[str, Any]], wanted: str | None = None) -> dict[str, Any] | None:
    """The workspace named or identified by ``wanted``, the only one, or None (the user must choose).

    Raises :class:`ImportUsageError` when ``wanted`` matches nothing or there is no workspace."""
    if not workspaces:
        raise ImportUsageError("this account has no workspace")
    if wanted:
        key = wanted.strip().lower()
        for ws in workspaces:
            if key in (str(ws.get("id", "")).lower(), str(ws.get("name", "")).lower()):
                return ws
        names = ", ".join(repr(ws.get("name")) for ws in workspaces)
        raise ImportUsageError(f"no Dify workspace {wanted!r} (this account has {names})")
    return workspaces[0] if len(workspaces) == 1 else None


def use_workspace(session: ConsoleSession, workspace: dict[str, Any]) -> None:
    """Make ``workspace`` the session's current one (apps and keys are listed for the current one).

    Prefer :func:`in_workspace`, which also switches back; after this, call
    ``session.restore_workspace()`` (or ``session.logout()``, which does it)."""
    if not workspace.get("current"):
        session.switch_workspace(workspace_id(workspace))


@contextlib.contextmanager
def in_workspace(session: ConsoleSession, workspace: dict[str, Any]) -> Iterator[None]:
    """Switch the account to ``workspace`` for the block, then back to the workspace that was current,
    on errors and Ctrl+C too. Keep the block short: while it runs, the account's other sessions (the
    web console) see the switched workspace.

    A failed switch back is raised when the block succeeded; after a failed block its error is the
    one reported (``session.logout()`` tries the switch back once more)."""
    use_workspace(session, workspace)
    try:
        yield
    except BaseException:
        with contextlib.suppress(DifyError):
            session.restore_workspace()
        raise
    try:
        session.restore_workspace()
    except DifyError as error:
        raise DifyError(
            f"could not switch the Dify account back to its previous workspace: {error}"
        ) from None


def workspace_id(workspace: Mapping[str, Any]) -> str:
    value = workspace.get("id") if isinstance(workspace, Mapping) else None
    if not isinstance(value, (str, int)) or value == "":
        raise DifyProtocolError("the Dify console listed a workspace without an id")
    return str(value)
