"""difytui: the app-invocation interface of Dify's plugin SDK, served over Dify's HTTP APIs.

    from difytui import Dify
    dify = Dify.from_config()
    for event in dify.app.chat.invoke("support-bot", "hello", {}):
        print(event)

Public names are resolved lazily (PEP 562) so that ``import difytui`` stays cheap and never
loads the terminal UI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Dify": "difytui.client",
    "AsyncDify": "difytui.client",
    "AppInfo": "difytui.models",
    "DifyError": "difytui.errors",
    "DifyAPIError": "difytui.errors",
    "DifyConnectionError": "difytui.errors",
    "DifyProtocolError": "difytui.errors",
    "DifyDeadlineError": "difytui.errors",
    "RunInterrupted": "difytui.errors",
    "AppNotFoundError": "difytui.errors",
    "AmbiguousAppError": "difytui.errors",
    "ConfigError": "difytui.errors",
}

__all__ = [
    "AmbiguousAppError",
    "AppInfo",
    "AppNotFoundError",
    "AsyncDify",
    "ConfigError",
    "Dify",
    "DifyAPIError",
    "DifyConnectionError",
    "DifyDeadlineError",
    "DifyError",
    "DifyProtocolError",
    "RunInterrupted",
]

if TYPE_CHECKING:
    from difytui.client import AsyncDify, Dify
    from difytui.errors import (
        AmbiguousAppError,
        AppNotFoundError,
        ConfigError,
        DifyAPIError,
        DifyConnectionError,
        DifyDeadlineError,
        DifyError,
        DifyProtocolError,
        RunInterrupted,
    )
    from difytui.models import AppInfo


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'difytui' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
