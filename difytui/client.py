"""``Dify`` and ``AsyncDify``: the plugin SDK's app-invocation interface over Dify's HTTP APIs.

Both clients share one implementation of every request, the sans-io flows of
:mod:`difytui.flows`. Only the drivers (:mod:`difytui.sync_client`, :mod:`difytui.async_client`)
and the event-stream loops (:mod:`difytui.streams`) exist twice, because one is ``await``-ed and the
other is not. This module is the public home of the names.
"""

from __future__ import annotations

from difytui._http import Flow
from difytui.app_api import AppAPI, ChatAPI, CompletionAPI, WorkflowAPI
from difytui.async_client import PARALLEL_READS, AsyncDify
from difytui.flows import STOP_TIMEOUT, ResponseMode
from difytui.reconnect import ReconnectPolicy
from difytui.streams import AsyncEventStream, EventStream
from difytui.sync_client import Dify

__all__ = [
    "PARALLEL_READS",
    "STOP_TIMEOUT",
    "AppAPI",
    "AsyncDify",
    "AsyncEventStream",
    "ChatAPI",
    "CompletionAPI",
    "Dify",
    "EventStream",
    "Flow",
    "ReconnectPolicy",
    "ResponseMode",
    "WorkflowAPI",
]
