"""Events/s of ``Dify`` streaming vs a bare httpx + httpx-sse + json.loads loop, on one stream.

Both read the same 50,000-event chat stream from the simulator over loopback, alternately, in this
process; the ratio (Dify / bare) is what matters, not the absolute numbers. Goal: ratio >= 0.9.

    python benchmarks/stream_throughput.py [--events 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx
from httpx_sse import connect_sse

from difytui import Dify
from difytui.sim import Simulator

APP = "bench-stream"


def bare(sim: Simulator, events: int) -> int:
    """The baseline: what a hand-written client does, with nothing else."""
    body = {"query": "go", "inputs": {"events": events}, "response_mode": "streaming", "user": "bench"}
    headers = {"Authorization": f"Bearer {sim.api_keys[APP]}"}
    count = 0
    with (
        httpx.Client(timeout=60) as client,
        connect_sse(client, "POST", sim.base_url + "/chat-messages", json=body, headers=headers) as source,
    ):
        for sse in source.iter_sse():
            if sse.event == "ping":
                continue
            event = json.loads(sse.data)
            count += 1
            if event["event"] == "message_end":
                break
    return count


def library(sim: Simulator, events: int) -> int:
    count = 0
    with Dify(base_url=sim.base_url, apps={APP: sim.api_keys[APP]}, user="bench") as dify:
        dify.app.info(APP)  # the mode check's /info is a one-off per client, not per-event cost
        for _event in dify.app.chat.invoke(APP, "go", {"events": events}):
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"bare httpx-sse": [], "Dify streaming": []}
    with Simulator(token_delay=0.0) as sim:
        bare(sim, 1000)  # warm up both paths
        library(sim, 1000)
        for _ in range(args.rounds):
            for name, run in (("bare httpx-sse", bare), ("Dify streaming", library)):
                started = time.perf_counter()
                got = run(sim, args.events)
                elapsed = time.perf_counter() - started
                assert got >= args.events, f"{name} got {got} events"
                rates[name].append(got / elapsed)
    for name, values in rates.items():
        print(f"{name:>16}: {statistics.median(values):>10,.0f} events/s (median of {len(values)})")
    ratio = statistics.median(rates["Dify streaming"]) / statistics.median(rates["bare httpx-sse"])
    print(f"{'ratio':>16}: {ratio:.3f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
