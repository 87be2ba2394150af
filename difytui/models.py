"""Plain data types shared by the library, the CLI and the TUI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Interface = Literal["chat", "workflow", "completion"]

#: Dify app mode → the invocation interface that serves it (as in Dify's plugin SDK).
INTERFACE_BY_MODE: dict[str, Interface] = {
    "chat": "chat",
    "agent-chat": "chat",
    "advanced-chat": "chat",
    "agent": "chat",
    "workflow": "workflow",
    "completion": "completion",
}

#: Short human names for the modes, used as badges.
MODE_LABELS: dict[str, str] = {
    "chat": "chatbot",
    "agent-chat": "agent",
    "agent": "agent",
    "advanced-chat": "chatflow",
    "workflow": "workflow",
    "completion": "text generator",
}


@dataclass(frozen=True)
class AppInfo:
    """One app of the workspace. ``error`` is set (and ``mode`` is ``""``) when its /info failed."""

    id: str
    name: str
    mode: str
    interface: Interface | None
    description: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The interfaces in the order and with the titles every app list uses (CLI, TUI, import).
INTERFACE_TITLES: tuple[tuple[Interface, str], ...] = (
    ("chat", "Chat"),
    ("workflow", "Workflow"),
    ("completion", "Completion"),
)


#: Dify 1.14.2 ends the stream of a run stopped early (while its engine is still starting) with
#: ``workflow_finished`` ``status: failed`` and this error; its record says ``stopped``. The CLI
#: and the console say so too: the user stopped it (Escape, or Stop in Dify's web app), it did not fail.
EARLY_STOP_ERROR = "Aborted: User requested stop"


#: :func:`run_status` of a ``workflow_finished`` whose data is missing or has no status: the run's
#: end is unreadable, never a success.
UNKNOWN_STATUS = "unknown"


def run_status(data: object) -> str:
    """``workflow_finished.data.status``, an early stop read as ``stopped``; ``unknown`` if absent."""
    if not isinstance(data, dict):
        return UNKNOWN_STATUS
    status = data.get("status")
    if not isinstance(status, str) or not status.strip():
        return UNKNOWN_STATUS
    if status == "failed" and str(data.get("error") or "").strip() == EARLY_STOP_ERROR:
        return "stopped"
    return status
