"""``difytui test``: run saved test cases (files or folders of TOML), print a summary, write reports.

Exit codes: 0 every case passed; 1 a case failed or errored; 2 a bad case file, config or usage;
130 interrupted (every in-flight run is stopped on the server and the partial reports are written).
This module is imported to build the parser: the bench itself is imported only when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from difytui.cliutil import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, say

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify
    from difytui.bench.clients import Clients
    from difytui.bench.model import Case, SuiteResult, Target
    from difytui.bench.runner import Progress
    from difytui.config import Config, Workspace


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], global_options: Callable[..., None]
) -> None:
    test = subparsers.add_parser(
        "test",
        help="run saved test cases against apps; exit 1 if any fails",
        description="Run the test cases of PATH (TOML files, or folders: every *.toml under them; "
        "default: the config's cases_dir, else a cases/ folder beside the config). Progress goes to "
        "stderr, the summary to stdout. See docs/test-cases.md for the case format.",
    )
    global_options(test, suppress=True)
    test.add_argument("paths", nargs="*", metavar="PATH", help="a case file or a folder of them")
    test.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="[WORKSPACE:]APP",
        help="run every case on this app instead of its own (repeatable: a matrix, answers compared)",
    )
    test.add_argument("--filter", metavar="TEXT", help="only the cases whose file or name contains TEXT")
    test.add_argument(
        "--concurrency", type=_positive, default=None, metavar="N", help="runs at once (default 4)"
    )
    test.add_argument(
        "--repeat", type=_repeat, metavar="N", help="run each case N times (replaces repeat; at most 1000)"
    )
    test.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    test.add_argument("--junit", metavar="FILE", help="write a JUnit XML report (for CI)")
    test.add_argument("--fail-fast", action="store_true", help="stop after the first failing case")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {value})")
    return value


def _repeat(text: str) -> int:
    from difytui.bench.model import MAX_REPEAT

    value = _positive(text)
    if value > MAX_REPEAT:  # the runs are built up front: a typo must not exhaust memory
        raise argparse.ArgumentTypeError(f"must be at most {MAX_REPEAT} (got {value})")
    return value


class _Usage(Exception):
    """A problem with the command line, the config or the case files: exit 2 with this message."""


def run(args: argparse.Namespace) -> int:
    from difytui.errors import AppNotFoundError, ConfigError

    sim = None
    try:
        if args.demo:
            from difytui.demo import start_demo

            sim, demo = start_demo(token_delay=0.0)
            source = _Source(None, demo)
        else:
            from difytui.config import load_config

            source = _Source(load_config(args.config), None)
        default = args.workspace or None
        _check_reports(args)
        cases = _cases(args, source, default)
        targets = list(dict.fromkeys(_target(text) for text in args.target))  # each once
        return asyncio.run(_main(args, cases, targets, source, default))
    except (_Usage, ConfigError, AppNotFoundError) as error:
        say(f"difytui: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:  # before the suite started: nothing ran
        say("difytui: interrupted")
        return EXIT_INTERRUPTED
    finally:
        if sim is not None:
            sim.stop()


class _Source:
    """The workspaces cases may name: the config's, or the demo's only."""

    def __init__(self, config: Config | None, demo: Workspace | None) -> None:
        self.config = config
        self.demo = demo

    def workspace(self, name: str | None) -> Workspace:
        if self.demo is not None:
            if name not in (None, self.demo.name):
                raise _Usage(f"unknown workspace {name!r}: with --demo the only one is {self.demo.name!r}")
            return self.demo
        assert self.config is not None
        return self.config.workspace(name)

    def cases_dir(self, default: str | None) -> Path:
        if self.demo is not None:
            from difytui.demo import cases_dir

            return cases_dir()
        assert self.config is not None
        folder = self.workspace(default).cases_dir or self.config.cases_dir
        if folder is not None:
            return folder
        if self.config.path is None:
            raise _Usage("no PATH given and no config file to find a cases folder beside: give PATH")
        return self.config.path.parent / "cases"


def _check_reports(args: argparse.Namespace) -> None:
    """A report with nowhere to go is a usage error before anything runs, not after the suite."""
    for option, value in (("--json", args.json), ("--junit", args.junit)):
        if value and not Path(value).parent.is_dir():
            raise _Usage(f"{option} {value}: no folder {Path(value).parent}")
        if value and Path(value).is_dir():
            raise _Usage(f"{option} {value}: a folder, not a file")


def _cases(args: argparse.Namespace, source: _Source, default: str | None) -> list[Case]:
    from difytui.bench.case_files import load_cases

    if args.paths:
        paths = [Path(p) for p in args.paths]
    else:
        folder = source.cases_dir(default)
        if not folder.is_dir():
            raise _Usage(f"no cases folder {folder}: give PATH, or set cases_dir in the config")
        paths = [folder]
    cases = load_cases(paths)  # CaseFileError is a ConfigError: every problem, file:line each
    if args.filter:
        wanted = args.filter.casefold()
        cases = [case for case in cases if wanted in f"{case.rel} {case.name}".casefold()]
    if not cases:
        where = " matching --filter" if args.filter else ""
        raise _Usage(f"no test cases{where} in {', '.join(str(p) for p in paths)}")
    return cases


def _target(text: str) -> Target:
    from difytui.bench.model import Target

    workspace, _, app = text.rpartition(":")
    if not app.strip() or (_ and not workspace.strip()):
        raise _Usage(f"--target {text!r}: give APP or WORKSPACE:APP")
    return Target(app.strip(), workspace.strip() or None)


async def _main(
    args: argparse.Namespace, cases: list[Case], targets: list[Target], source: _Source, default: str | None
) -> int:
    from difytui.bench.clients import Clients
    from difytui.bench.model import DEFAULT_CONCURRENCY
    from difytui.bench.record import Recorder
    from difytui.bench.runner import run_suite, standard_grader
    from difytui.store import Store

    def make(workspace: str | None) -> AsyncDify:
        from difytui.async_client import AsyncDify

        return AsyncDify(workspace=source.workspace(workspace if workspace is not None else default))

    clients = Clients(make)
    store = Store()
    progress = _Progress(sys.stderr.isatty())
    try:
        with _each_ctrl_c_cancels():
            try:
                await _check(cases, targets, clients)
            except asyncio.CancelledError:  # nothing ran yet
                say("difytui: interrupted")
                return EXIT_INTERRUPTED
            started = time.monotonic()
            suite = await run_suite(
                cases,
                clients,
                standard_grader(),
                targets=targets,
                concurrency=args.concurrency or DEFAULT_CONCURRENCY,
                repeat=args.repeat,
                fail_fast=args.fail_fast,
                on_progress=progress,
                recorder=Recorder(store, default_workspace=source.workspace(default).name),
            )
            elapsed = time.monotonic() - started
        progress.clear()
        return _report(args, suite, elapsed)  # before closing: a Ctrl+C there must not lose it
    finally:
        progress.clear()
        with contextlib.suppress(asyncio.CancelledError):
            await clients.aclose()
        store.close()


@contextlib.contextmanager
def _each_ctrl_c_cancels() -> Iterator[None]:
    """Every Ctrl+C cancels the running task: :func:`run_suite` stops the in-flight runs on the
    first and gives up waiting for those stop calls on the second, and the partial reports are
    written either way. (asyncio's own handler makes a second Ctrl+C a KeyboardInterrupt that
    loses them.) Where the loop cannot take signals (Windows), asyncio's handling stays."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if previous is not None:  # asyncio.run's own, which it takes back at the end
            signal.signal(signal.SIGINT, previous)


async def _check(cases: list[Case], targets: list[Target], clients: Clients) -> None:
    """Every target's app exists and can run its cases (a query only for chat apps, a completion or
    workflow judge given inputs): else nothing runs. A server that cannot be reached is not checked
    here: its runs become errors and the others go on."""
    from difytui.bench.case_files import check_target
    from difytui.bench.model import Target
    from difytui.bench.runner import targets_of
    from difytui.errors import AmbiguousAppError, AppNotFoundError, ConfigError, DifyError

    async def interface(target: Target) -> str | None:
        try:
            return (await clients.endpoint(target)).interface
        except (ConfigError, AppNotFoundError, AmbiguousAppError) as error:
            raise _Usage(str(error)) from None
        except DifyError:
            return None

    for case, target in targets_of(cases, targets):
        found = await interface(target)
        if found is None:
            continue
        judges = {a.app for a in case.assertions if a.type == "judge" and a.app}
        graders = {}
        for app in judges:
            grader = await interface(Target(app, target.workspace))
            if grader is not None:
                graders[app] = grader
        check_target(case, target, found, graders=graders)


def _report(args: argparse.Namespace, suite: SuiteResult, elapsed: float) -> int:
    from difytui.bench import report_json, report_junit, report_text

    unwritten = False
    for option, writer in ((args.json, report_json.write), (args.junit, report_junit.write)):
        if option:
            try:
                writer(Path(option), suite, elapsed)
            except OSError as error:
                say(f"difytui: cannot write {option}: {error.strerror or error}")
                unwritten = True
    with contextlib.suppress(BrokenPipeError):  # `difytui test | head`
        print(report_text.render(suite, elapsed), flush=True)
    if unwritten:
        return EXIT_USAGE
    if suite.interrupted:
        say("difytui: interrupted; in-flight runs were stopped on the server")
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r.verdict == "pass" for r in suite.results) else EXIT_ERROR


class _Progress:
    """On a terminal, one live line (counts, runs in flight); otherwise one line per finished case."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.counts = {"pass": 0, "fail": 0, "error": 0}
        self.running: set[int] = set()  # the runs streaming now (by id)
        self.shown = False

    def __call__(self, event: Progress) -> None:
        from difytui.bench.report_text import case_line

        if event.kind == "start":
            self.running.add(id(event.run))
        elif event.kind == "run":
            self.running.discard(id(event.run))
        else:
            self.counts[event.result.verdict] += 1
            if not self.live:
                say(case_line(event.result))
        if self.live:
            line = (
                f"[{event.done}/{event.total}] ✓ {self.counts['pass']}  ✗ {self.counts['fail']}"
                f"  ! {self.counts['error']}  running {len(self.running)}"
            )
            sys.stderr.write(f"\r\x1b[K{line}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False
