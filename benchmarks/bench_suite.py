"""The test bench's runner against the simulator (issue 9).

1. Throughput: 200 one-turn chat cases, each run taking a fixed 0.2 s on the server (the
   simulator's ``--run-latency``), at concurrency 8. The ideal wall time is 200 × 0.2 / 8 = 5 s;
   printed: the measured wall time as a ratio of it (goal ≤ 1.25), and this process's CPU per case
   (the simulator runs in its own process, so the CPU is the runner's: client, grading, recording).
   The cases run on the simulator's benchmark app (20 short events after the 0.2 s), so a run
   takes the 0.2 s asked for; the demo's chat answer (~100 events) is measured too, for scale.
2. Memory: a 1,000-case suite (no latency), its peak traced memory beside a 200-case suite's, so
   growth per case is visible (results are kept for the report; nothing else should grow).

    python benchmarks/bench_suite.py [--cases 200] [--latency 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from difytui.async_client import AsyncDify
from difytui.bench.clients import Clients
from difytui.bench.model import Assertion, Case, Where
from difytui.bench.record import Recorder
from difytui.bench.runner import run_suite, standard_grader
from difytui.sim import ALL_APPS, api_key_for
from difytui.store import Store

HERE = Where(Path("bench.toml"), 1)


def cases(count: int, app: str = "bench-stream") -> list[Case]:
    if app == "bench-stream":
        inputs: dict[str, object] = {"events": 20}
        check = Assertion(type="contains", where=HERE, value="tok")
    else:
        inputs = {"product": "difytui"}
        check = Assertion(type="icontains", where=HERE, value="found")
    return [
        Case(
            name=f"case {n}",
            file=HERE.file,
            rel="bench.toml",
            where=HERE,
            app=app,
            inputs=inputs,
            turns=(f"question {n}",),
            assertions=(check,),
        )
        for n in range(count)
    ]


def start_simulator(latency: float) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "difytui.sim", "--port", "0", "--token-delay", "0"]
    argv += ["--run-latency", str(latency)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()  # "Dify 1.14.2 simulator listening on http://…/v1"
    return process, first.rsplit(" ", 1)[-1].strip()


async def suite(
    base_url: str, count: int, concurrency: int, store: Store, app: str = "bench-stream"
) -> tuple[float, float, int, float]:
    """Wall time, CPU time, cases passed and the runs' median latency."""
    keys = {app: api_key_for(app) for app in ALL_APPS}
    clients = Clients(lambda _: AsyncDify(base_url=base_url, apps=keys, user="bench"))
    wall, cpu = time.perf_counter(), time.process_time()
    result = await run_suite(
        cases(count, app), clients, standard_grader(), concurrency=concurrency, recorder=Recorder(store)
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await clients.aclose()
    latencies = [turn.latency_s or 0.0 for r in result.results for run in r.runs for turn in run.turns]
    return wall, cpu, result.count("pass"), statistics.median(latencies)


def peak_memory(base_url: str, count: int, concurrency: int, store: Store) -> int:
    tracemalloc.start()
    asyncio.run(suite(base_url, count, concurrency, store))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--memory-cases", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "state.db")
        slow, slow_url = start_simulator(args.latency)
        try:
            wall, cpu, passed, p50 = asyncio.run(suite(slow_url, args.cases, args.concurrency, store))
            chat = asyncio.run(suite(slow_url, args.cases, args.concurrency, store, "support-bot"))
        finally:
            slow.terminate()
            slow.wait()
        ideal = args.cases * args.latency / args.concurrency
        print(
            f"{args.cases} cases, {args.latency} s per run, concurrency {args.concurrency}: {passed} passed"
        )
        print(f"  wall {wall:.2f} s, ideal {ideal:.2f} s: ratio {wall / ideal:.3f} (goal <= 1.25)")
        print(
            f"  CPU {cpu:.2f} s in all, {cpu / args.cases * 1000:.1f} ms per case;"
            f" run latency p50 {p50:.3f} s"
        )
        print(
            f"  the demo's chat answer instead: wall {chat[0]:.2f} s, ratio {chat[0] / ideal:.3f}, "
            f"CPU {chat[1] / args.cases * 1000:.1f} ms per case, run latency p50 {chat[3]:.3f} s"
        )
        fast, fast_url = start_simulator(0.0)
        try:
            small = peak_memory(fast_url, args.cases, args.concurrency, store)
            large = peak_memory(fast_url, args.memory_cases, args.concurrency, store)
        finally:
            fast.terminate()
            fast.wait()
        store.close()
        growth = (large - small) / (args.memory_cases - args.cases)
        print(f"peak traced memory: {args.cases} cases {small / 1e6:.1f} MB, {args.memory_cases} cases")
        print(
            f"  {large / 1e6:.1f} MB ({growth / 1000:.1f} kB per extra case: the results kept for the report)"
        )


if __name__ == "__main__":
    main()
