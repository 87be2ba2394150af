"""Start-up benchmark: ``difytui --demo`` to its first frame, beside a minimal Textual app.

Both programs run the same way, alternating, as fresh processes on a pseudo-terminal of a fixed size
(120×40, TERM=xterm-256color), with the same interpreter. The headline is the median of the per-pair
ratios (each difytui run over the minimal run just before it, so a burst of load on the machine hits
both of a pair alike); the ratio of the two medians is printed beside it (goal: ≤ 1.3).

"First frame" is defined from outside, identically for both programs: the time from just before the
process is spawned until the terminal has received the first full screen update — the first
cursor move to the start of the last row (``ESC[40;1H``), which Textual's compositor writes only when
it paints the whole screen. Why this definition:

- it needs no hook inside either program, so nothing about the measurement changes what is measured;
- it covers everything the user waits for: interpreter start, imports, argument parsing, the demo's
  set-up, CSS, layout, and the write to the terminal (``App.on_ready`` fires *before* the driver's
  writer thread has put the frame on the terminal, and would miss any work queued ahead of it);
- a program cannot satisfy it with a partial paint: the frame has reached the screen's last row.

On Linux it also prints the CPU time each process had used by its first frame (all threads, from
/proc): wall time on a loaded machine includes waiting for a core, CPU time does not.

The demo's first frame lists its apps from the state's cache (names and modes), as a user's console
does from the second start on: the discarded first run goes on until the simulator's answer to its
app-list request is cached. Work after the first frame is not counted.

``difytui --version`` is timed to exit, beside ``python -c pass`` (the floor for any Python command).

    python benchmarks/startup.py             # 21 runs of each
    python benchmarks/startup.py --runs 31
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS, COLUMNS = 40, 120
LAST_ROW = f"\x1b[{ROWS};1H".encode()
ESCAPE = re.compile(rb"\x1b(\[[0-9;?$>=<]*[ -/]*[@-~]|\][^\x07]*\x07|[@-Z\\-_])")

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Label

class Minimal(App):
    def compose(self):
        yield Label("a minimal Textual app")

Minimal().run()
"""


def _environment(root: Path, scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
        # This checkout's difytui, and the demo's state (SQLite cache, conversations) in a scratch dir.
        PYTHONPATH=str(root) + os.pathsep + env.get("PYTHONPATH", ""),
        DIFYTUI_CHECKOUT=str(root),  # also the working directory (`python -m` looks there first)
        DIFYTUI_DATA_DIR=str(scratch / "data"),
        DIFYTUI_CONFIG_DIR=str(scratch / "config"),
        # Byte code as an installed package has it (pip compiles at install), for both programs alike:
        # cached under the scratch dir by the warm-up runs, so the checkout stays clean.
        PYTHONPYCACHEPREFIX=str(scratch / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("TEXTUAL", None)
    return env


def cpu_seconds(pid: int) -> float | None:
    """CPU time the process has used so far, all threads (Linux schedstat, ns); None elsewhere."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except OSError:
        return None
    return total / 1e9


class Start:
    """One start-up: seconds to the first full frame, and the CPU time used by then (None off Linux)."""

    def __init__(self, frame: float, cpu: float | None) -> None:
        self.frame, self.cpu = frame, cpu


def first_frame(
    argv: list[str], env: dict[str, str], timeout: float = 20.0, until: Callable[[], bool] | None = None
) -> Start:
    """Run argv on a fresh pty (in env's checkout: ``-m`` puts the working directory first on the
    path) until its first full frame, and then until ``until()`` says so (a warm-up run)."""
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the program, on the pty
        try:
            os.chdir(env["DIFYTUI_CHECKOUT"])
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    output = b""
    frame: float | None = None
    cpu: float | None = None
    deadline = start + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                if frame is not None and until is not None and until():
                    break
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # the program exited
                break
            now = time.monotonic()
            output += chunk
            if frame is None and LAST_ROW in output:
                frame = now - start
                cpu = cpu_seconds(pid)
            if frame is not None and (until is None or until()):
                break
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    if frame is None:
        tail = ESCAPE.sub(b"", output)[-500:].decode(errors="replace")
        raise SystemExit(f"no first frame from {argv}: {tail}")
    return Start(frame, cpu)


def apps_cached(env: dict[str, str]) -> bool:
    """Whether the demo's state holds its app list (the console caches the simulator's answer)."""
    path = Path(env["DIFYTUI_DATA_DIR"]) / "state.sqlite3"
    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return bool(db.execute("SELECT count(*) FROM app_cache").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return False


def exit_time(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=env["DIFYTUI_CHECKOUT"])
    return time.monotonic() - start


def ms(values: list[float]) -> str:
    low, high = min(values) * 1000, max(values) * 1000
    return f"{statistics.median(values) * 1000:6.0f} ms (min {low:.0f}, max {high:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each program (default 21)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the difytui checkout to measure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="difytui-startup-") as scratch:
        env = _environment(args.root.resolve(), Path(scratch))
        python = sys.executable
        minimal = [python, "-c", MINIMAL_APP]
        demo = [python, "-m", "difytui", "--demo"]
        # One discarded run each: writes the byte code, fills the OS cache, the demo's app cache and
        # the first frame's parsed styles (a user's first start ever is not what this measures).
        first_frame(minimal, env)
        first_frame(demo, env, until=lambda: apps_cached(env))
        bases: list[Start] = []
        starts: list[Start] = []
        for _ in range(args.runs):  # alternating, so load on the machine hits both alike
            bases.append(first_frame(minimal, env))
            starts.append(first_frame(demo, env))
        base = [b.frame for b in bases]
        ours = [s.frame for s in starts]
        pairs = [o / b for o, b in zip(ours, base, strict=True)]
        base_cpu = [b.cpu for b in bases if b.cpu is not None]
        ours_cpu = [s.cpu for s in starts if s.cpu is not None]

        version = [python, "-m", "difytui", "--version"]
        nothing = [python, "-c", "pass"]
        exit_time(version, env)
        floor: list[float] = []
        cli: list[float] = []
        for _ in range(args.runs):
            floor.append(exit_time(nothing, env))
            cli.append(exit_time(version, env))

    print(f"first frame, {args.runs} runs each, {COLUMNS}x{ROWS} pty")
    print(f"  minimal Textual app   {ms(base)}")
    print(f"  difytui --demo        {ms(ours)}")
    ratio = statistics.median(ours) / statistics.median(base)
    print(f"  ratio {statistics.median(pairs):.2f}x, median of per-pair ratios (goal <= 1.3x)")
    print(f"  ratio of the medians {ratio:.2f}x")
    if base_cpu and ours_cpu:  # work done, whatever the load: a cross-check on a busy machine
        cpu_ratio = statistics.median(ours_cpu) / statistics.median(base_cpu)
        print(f"  CPU time by the first frame: minimal {ms(base_cpu)}")
        print(f"                               difytui {ms(ours_cpu)}  ratio {cpu_ratio:.2f}x")
    print("exit")
    print(f"  python -c pass        {ms(floor)}")
    print(f"  difytui --version     {ms(cli)}")
    print(f"  ratio {statistics.median(cli) / statistics.median(floor):.2f}x")


if __name__ == "__main__":
    main()
