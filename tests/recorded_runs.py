"""Real runs recorded from the simulator over loopback, for the compare and export tests."""

from __future__ import annotations

import time

from difytui.client import Dify
from difytui.run_records import JSON, RunRecord, RunRecords, summarize
from difytui.sim import Simulator

WS = "ws"
REPORT = {"topic": "SSE", "audience": "engineers", "sections": 2}


def record_workflow(
    sim: Simulator, records: RunRecords, inputs: JSON, ws: str = WS, as_app: str = "report-builder"
) -> tuple[RunRecord, list[JSON]]:
    """A report-builder run over the Service API, recorded as ``as_app``'s (an account workspace
    knows the app by its uuid)."""
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        started = time.time()
        events = list(client.app.workflow.invoke("report-builder", inputs))
    record, kept = summarize(as_app, "workflow", inputs, events, started=started, finished=time.time())
    record.id = records.add(ws, record, kept)
    return record, kept


def record_chat(
    sim: Simulator,
    records: RunRecords,
    query: str,
    app_id: str = "support-bot",
    ws: str = WS,
    conversation_id: str | None = None,
) -> tuple[RunRecord, list[JSON]]:
    inputs = {"product": "difytui"}
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        started = time.time()
        events = list(client.app.chat.invoke(app_id, query, inputs, "streaming", conversation_id))
    record, kept = summarize(
        app_id, "chat", inputs, events, query=query, started=started, finished=time.time()
    )
    record.id = records.add(ws, record, kept)
    return record, kept


def assert_no_secret(text: str, sim: Simulator, *extra: str) -> None:
    """No app key of the simulator, no account token it minted, nor any of ``extra`` is in ``text``."""
    secrets = [*sim.api_keys.values(), *sim.account_tokens, *extra]
    leaked = [s[:8] + "…" for s in secrets if s and s in text]
    assert not leaked, f"secrets in the export: {leaked}"
