"""Worker bodies of the Runs view: Dify's server-side workflow runs (``GET /workflows/logs``, paged
by page number, and ``GET /workflows/run/:id``), and a local record's events (decompressed off the
UI thread). Each reports with ``post(message)`` and never touches a widget; failures become a
readable text (as in :mod:`difytui.tui.runner`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from difytui.history import WorkflowRunSummary
from difytui.run_records import RunRecord, RunRecords, known_run_ids
from difytui.tui.messages import WorkerMessage
from difytui.tui.run_rows import record_from_server
from difytui.tui.runner import Post, describe_error

if TYPE_CHECKING:
    from difytui.client import AsyncDify

SERVER_PAGE = 50


@dataclass
class ServerPage(WorkerMessage):
    """A page of Dify's runs (those the records already hold left out); ``error``: it failed."""

    page: int
    runs: list[WorkflowRunSummary] = field(default_factory=list)
    has_more: bool = False
    error: str = ""


@dataclass
class RunLoaded(WorkerMessage):
    """A run ready to show or compare: its record and events (``purpose``: what it was asked for)."""

    purpose: str
    app_id: str
    key: str
    record: RunRecord | None
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


async def server_page(
    client: AsyncDify, records: RunRecords, ws: str, app_id: str, page: int, post: Post
) -> None:
    try:
        found = await client.app.workflow_runs.logs(app_id, page=page, limit=SERVER_PAGE)
    except Exception as error:  # DifyError, or a bug: a notice, the local runs stay
        post(ServerPage(page, error=describe_error(error)[0]))
        return
    ids = [run.id for run in found.items]
    known = await asyncio.to_thread(known_run_ids, records, ws, ids)
    fresh = [run for run in found.items if run.id not in known]
    post(ServerPage(page, fresh, found.has_more))


async def load_run(
    client: AsyncDify | None, records: RunRecords, app_id: str, key: str, purpose: str, post: Post
) -> None:
    """``key``: ``r:<record id>`` (the record and its events) or ``s:<run id>`` (Dify's run)."""
    kind, _, ident = key.partition(":")
    if kind == "r":
        record = await asyncio.to_thread(records.get, int(ident))
        events = await asyncio.to_thread(records.events, int(ident)) if record is not None else []
        error = "" if record is not None else "this record is gone (the budget dropped it)"
        post(RunLoaded(purpose, app_id, key, record, events, error))
        return
    if client is None:
        post(RunLoaded(purpose, app_id, key, None, error="not connected to Dify"))
        return
    try:
        detail = await client.app.workflow_runs.get(app_id, ident)
    except Exception as error:
        post(RunLoaded(purpose, app_id, key, None, error=describe_error(error)[0]))
        return
    post(RunLoaded(purpose, app_id, key, record_from_server(app_id, detail)))
