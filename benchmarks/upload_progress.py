"""What reporting an upload's progress costs (issue 12 point 6).

Uploads the same file to the simulator over loopback, alternately without and with a progress
callback (``app.upload(app_id, path, progress)``), on ``Dify`` and ``AsyncDify``, and prints the
median time of each and their ratio, measured in this process (the machine's load cancels out).
The simulator parses each multipart body, so most of the time is its; the ratio says what the
``ProgressReader`` adds (sync: it wraps the open file; async: it serves the bytes read off the loop).

    python benchmarks/upload_progress.py [--mb 8] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from difytui import AsyncDify, Dify
from difytui.sim import Simulator

APP = "report-builder"


Upload = Callable[[Callable[[int, int], None] | None], object]


def _timed(upload: Upload, progress: Callable[[int, int], None] | None) -> float:
    start = time.perf_counter()
    upload(progress)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    calls = {"n": 0}

    def progress(_sent: int, _total: int) -> None:
        calls["n"] += 1

    with Simulator(token_delay=0.0) as sim, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "payload.pdf"
        path.write_bytes(bytes(range(256)) * int(args.mb * 4096))
        keys = dict(base_url=sim.base_url, apps=sim.apps_config(), user="bench")
        with Dify(**keys) as dify:
            loop = asyncio.new_event_loop()
            adify = AsyncDify(**keys)
            clients: dict[str, Upload] = {
                "Dify": lambda p: dify.app.upload(APP, path, p),
                "AsyncDify": lambda p: loop.run_until_complete(adify.app.upload(APP, path, p)),
            }
            for name, upload in clients.items():
                plain, reported = [], []
                upload(None)  # warm up: connections, caches
                for _ in range(args.rounds):
                    plain.append(_timed(upload, None))
                    reported.append(_timed(upload, progress))
                a, b = statistics.median(plain), statistics.median(reported)
                print(
                    f"{name:9}  {args.mb:g} MB  plain {a * 1000:7.1f} ms  with progress {b * 1000:7.1f} ms  "
                    f"ratio {b / a:.2f}"
                )
            loop.run_until_complete(adify.close())
            loop.close()
    print(f"progress calls: {calls['n']} ({calls['n'] // (2 * args.rounds)} per upload)")


if __name__ == "__main__":
    main()
