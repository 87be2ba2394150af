"""``python -m difytui.sim --port N [--token-delay S] [--run-latency S]``: serve the demo workspace
until Ctrl+C."""

from __future__ import annotations

import argparse
import threading

from .simulator import Simulator


def simulator(argv: list[str] | None = None) -> Simulator:
    """The simulator the command line asks for, not started yet."""
    parser = argparse.ArgumentParser(prog="python -m difytui.sim", description=__doc__)
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument(
        "--run-latency", type=float, default=0.0, help="seconds each run waits before its first event"
    )
    parser.add_argument("--ping-interval", type=float, default=10.0)
    parser.add_argument("--chunk-seed", type=int, default=None)
    args = parser.parse_args(argv)
    return Simulator(
        token_delay=args.token_delay,
        run_latency=args.run_latency,
        ping_interval=args.ping_interval,
        chunk_seed=args.chunk_seed,
        port=args.port,
        host=args.host,
    )


def main(argv: list[str] | None = None) -> int:
    sim = simulator(argv).start()
    print(f"Dify 1.14.2 simulator listening on {sim.base_url}")
    print("Demo keys (throwaway), ready for config.toml:\n")
    print(sim.config_toml())
    print(f"Console API: {sim.console_url}/console/api ({sim.account_email} / {sim.account_password})")
    print(f"Account API: {sim.openapi_url} (approve device logins with the console session)")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
