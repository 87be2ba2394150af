"""Real runs recorded from the simulator over loopback, for the compare and export tests."""

from __future__ import annotations

import time

from difytui.client import Dify
from difytui.run_records import JSON, RunRecord, RunRecords, summarize
from difytui.sim import Simulator

WS = "ws"
REPORT = {"topic": "SSE", "audience": "engineers", "sections": 2}


def record_workflow(
    sim: Simulator, records: RunRecords, inputs: JSON, ws: str = WS
) -> tuple[RunRecord, list[JSON]]:
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        started = time.time()
        events = list(client.app.workflow.invoke("report-builder", inputs))
    record, kept = summarize(
        "report-builder", "workflow", inputs, events, started=started, finished=time.time()
    )
    record.id = records.add(ws, record, kept)
    return record, kept


def record_chat(
    sim: Simulator, records: RunRecords, query: str, app_id: str = "support-bot", ws: str = WS
) -> tuple[RunRecord, list[JSON]]:
    inputs = {"product": "difytui"}
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        started = time.time()
        events = list(client.app.chat.invoke(app_id, query, inputs))
    record, kept = summarize(
        app_id, "chat", inputs, events, query=query, started=started, finished=time.time()
    )
    record.id = records.add(ws, record, kept)
    return record, kept
