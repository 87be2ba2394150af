"""The simulator's ``run_latency``: a fixed wait per run (the bench's model time), concurrent across
runs, that changes nothing a client receives but when the run's first event comes."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from difytui.sim import Simulator
from difytui.sim.__main__ import simulator as simulator_from_args

RUNS = {
    "support-bot": ("/chat-messages", {"inputs": {"product": "difytui"}, "query": "hi"}),
    "travel-agent": ("/chat-messages", {"inputs": {"days": 2}, "query": "Kyoto"}),
    "trip-planner": ("/chat-messages", {"inputs": {"city": "Kyōto"}, "query": "what to eat?"}),
    "report-builder": (
        "/workflows/run",
        {"inputs": {"topic": "SSE", "audience": "engineers", "sections": 2}},
    ),
    "copywriter": ("/completion-messages", {"inputs": {"product_name": "Tui", "brief": "A console"}}),
}
#: Wall-clock fields (whole seconds): they may tick between two otherwise identical runs.
_CLOCK = {"created_at", "finished_at"}


def _client(sim: Simulator, app_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=sim.base_url, headers={"Authorization": f"Bearer {sim.api_keys[app_id]}"}, timeout=5
    )


def _without_clock(value):
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in _CLOCK}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def _every_run(run_latency: float) -> list[tuple[list[str], object]]:
    """Each demo app streamed and then run blocking (the agent only streams), on a fresh simulator:
    the frames' kinds in order and the events (or blocking body) without wall-clock fields."""
    seen: list[tuple[list[str], object]] = []
    with Simulator(run_latency=run_latency) as sim:
        for app_id, (path, payload) in RUNS.items():
            with _client(sim, app_id) as c:
                body = {**payload, "user": "u1", "response_mode": "streaming"}
                with c.stream("POST", path, json=body) as r:
                    frames = [line for line in r.iter_lines() if line]
                kinds = ["ping" if f == "event: ping" else json.loads(f[6:])["event"] for f in frames]
                events = [json.loads(f[6:]) for f in frames if f.startswith("data: ")]
                seen.append((kinds, _without_clock(events)))
                if app_id != "travel-agent":
                    blocking = c.post(path, json={**payload, "user": "u1", "response_mode": "blocking"})
                    seen.append(([str(blocking.status_code)], _without_clock(blocking.json())))
    return seen


def test_run_latency_changes_no_event_field_or_order():
    assert _every_run(0.05) == _every_run(0.0)


def test_first_event_waits_the_latency_once_per_run():
    with Simulator(run_latency=0.3) as sim, _client(sim, "support-bot") as c:
        body = {**RUNS["support-bot"][1], "user": "u1", "response_mode": "streaming"}
        sent = time.monotonic()
        events = []
        with c.stream("POST", "/chat-messages", json=body) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    if not events:
                        first = time.monotonic() - sent
                        # Were it per token, the ~100 tokens still to come would each wait an hour
                        # (the client's 5 s read timeout would end the test).
                        sim.run_latency = 3600
                    events.append(json.loads(line[6:]))
    assert first >= 0.3
    assert len(events) > 20 and events[-1]["event"] == "message_end"


def test_blocking_answer_waits_the_latency():
    with Simulator(run_latency=0.3) as sim, _client(sim, "copywriter") as c:
        path, payload = RUNS["copywriter"]
        sent = time.monotonic()
        answer = c.post(path, json={**payload, "user": "u1", "response_mode": "blocking"})
        took = time.monotonic() - sent
        info = c.get("/info")  # not a run: no wait (the 5 s read timeout would end the test)
        sim.run_latency = 3600
        assert c.get("/parameters").status_code == 200
    assert answer.status_code == 200 and "Tui" in answer.json()["answer"]
    assert took >= 0.3 and info.status_code == 200


@pytest.mark.parametrize("app_id", ["support-bot", "trip-planner"])
def test_runs_wait_their_latency_together_and_a_stop_reaches_them(app_id):
    """Eight runs waiting at once (not one after the other); a stop ends each one's wait."""
    path, payload = RUNS[app_id]
    body = {**payload, "response_mode": "streaming"}
    streams: dict[int, list[str]] = {}
    with Simulator(run_latency=3600) as sim:

        def worker(i: int) -> None:
            with _client(sim, app_id) as c, c.stream("POST", path, json={**body, "user": f"u{i}"}) as r:
                streams[i] = [line for line in r.iter_lines() if line]

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(sim.running_tasks) < 8:
            assert time.monotonic() < deadline, f"only {len(sim.running_tasks)} of 8 runs started"
            time.sleep(0.01)
        tasks = sim.running_tasks
        with _client(sim, app_id) as c:
            for task_id, run in tasks.items():
                stop = c.post(f"{path}/{task_id}/stop", json={"user": run.user})
                assert stop.json() == {"result": "success"}
        for t in threads:
            t.join(10)
        assert sorted(sim.stopped_tasks) == sorted(tasks)
    assert sorted(streams) == list(range(8))
    for frames in streams.values():
        events = [json.loads(f[6:]) for f in frames if f.startswith("data: ")]
        # Stopped before any token: no answer, and the run's usual end for an early stop.
        assert not [e for e in events if e["event"] == "message"]
        if app_id == "support-bot":
            assert [e["event"] for e in events] == ["message_end"]
        else:
            assert frames[0] == "event: ping"  # the relay pings as it subscribes, before the wait
            assert [e["event"] for e in events] == ["workflow_started", "workflow_finished"]


def test_command_line_sets_the_latency():
    assert simulator_from_args(["--run-latency", "0.2"]).run_latency == 0.2
    assert simulator_from_args([]).run_latency == 0.0
