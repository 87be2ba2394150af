"""The console's plain data: an app as the sidebar knows it, a run's request, a pane's context.

No widgets here; the client and the store are only named for their types (they load when the
console makes them, not when this module is imported).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from difytui.models import INTERFACE_BY_MODE, AppInfo, Interface

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.store import Store
    from difytui.tui.run_recording import Record
    from difytui.tui.store_writer import StoreWriter


@dataclass
class AppItem:
    """What the sidebar knows about an app (from the cache first, then from /info)."""

    id: str
    name: str
    mode: str = ""
    description: str = ""
    error: str | None = None

    @property
    def interface(self) -> Interface | None:
        return INTERFACE_BY_MODE.get(self.mode)

    @classmethod
    def from_any(cls, value: AppInfo | Mapping[str, Any]) -> AppItem:
        """From the client's ``AppInfo`` or a cached entry (the dict ``to_dict`` made)."""
        if isinstance(value, AppInfo):
            return cls(value.id, value.name or value.id, value.mode, value.description, value.error)
        error = value.get("error")
        return cls(
            id=str(value.get("id", "")),
            name=str(value.get("name", "") or value.get("id", "")),
            mode=str(value.get("mode", "") or ""),
            description=str(value.get("description", "") or ""),
            error=str(error) if error else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "mode": self.mode, "description": self.description}


@dataclass
class RunRequest:
    """Everything needed to (re)send one run; kept by the pane so a failed run can be retried."""

    app_id: str
    interface: Interface
    inputs: dict[str, Any]
    query: str = ""
    conversation_id: str | None = None
    files: list[Any] = field(default_factory=list)


@dataclass
class PaneContext:
    """What a pane needs from the app: the client (handed to workers), the state store and its key.

    ``writer`` takes the store's writes off the UI thread; reads go to ``store``.
    """

    client: AsyncDify
    store: Store
    ws_key: str
    writer: StoreWriter
    #: the form's values as the last session left them (typed, maybe never sent): they win over
    #: the last sent inputs
    draft: dict[str, Any] = field(default_factory=dict)
    #: stores each finished run in the run records (None: runs are not recorded)
    record: Record | None = None
