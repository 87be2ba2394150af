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
