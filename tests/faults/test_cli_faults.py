"""A sample of the faults through the CLI (`difytui invoke`, DIFY_BASE_URL + DIFY_API_KEY pointing
at the fault server): no traceback, every stdout line strict JSON, the events that arrived printed,
and exit 0 only for a run whose last event arrived and succeeded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import difytui
from difytui.cli import main

from .harness import KEYS
from .server import FaultServer
from .test_corruption import corruptions
from .test_http import BLOCKING, STREAMED
from .test_malformed_sse import CASES, FINISHED_WITHOUT_STATUS
from .wire import CHATFLOW, WORKFLOW, Reading, Stream, canon, expected, head, strict_json, terminals

#: The difytui this test imported (the subprocess must run the same one).
ROOT = Path(difytui.__file__).resolve().parents[1]


def _argv(app: str, blocking: bool = False) -> list[str]:
    argv = ["invoke", app] + (["-q", "hi"] if app == "chat" else [])
    return argv + (["--blocking"] if blocking else [])


def _env(monkeypatch, server: FaultServer, app: str) -> None:
    monkeypatch.setenv("DIFY_BASE_URL", server.base_url)
    monkeypatch.setenv("DIFY_API_KEY", KEYS[app])
    monkeypatch.setenv("DIFY_APP_ID", app)
    monkeypatch.setenv("DIFY_USER", "faults-cli")


def run_cli(capsys, argv: list[str]) -> tuple[int | str, list[str], str]:
    """Exit code (or the exception that escaped main: a traceback), stdout lines, stderr."""
    try:
        code: int | str = main(argv)
    except BaseException as exc:  # anything escaping main would be a traceback for the user
        code = f"traceback: {type(exc).__name__}: {exc}"[:200]
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def _succeeded(reading: Reading) -> bool:
    """The run's end arrived and says it succeeded: a ``workflow_finished`` (a chatflow's comes before
    its message_end) must carry a status, and not ``failed`` or ``stopped``."""
    if not reading.terminal or reading.events[-1].get("event") == "error":
        return False
    for event in reading.events:
        if event.get("event") == "workflow_finished":
            data = event.get("data")
            status = data.get("status") if isinstance(data, dict) else None
            if not isinstance(status, str) or not status or status in ("failed", "stopped"):
                return False
    return True


def judge_cli_stream(code: int | str, out: list[str], err: str, reading: Reading, *, mode: str) -> list[str]:
    if isinstance(code, str) or "Traceback" in err:
        return [str(code) if isinstance(code, str) else "a traceback on stderr"]
    problems = []
    printed = []
    for line in out:
        try:
            printed.append(strict_json(line))
        except ValueError as error:
            problems.append(f"stdout line is not strict JSON ({error}): {line[:80]!r}")
    if not problems:
        want = [canon(e) for e in reading.events]
        got = [canon(e) for e in printed]
        if any("NaN" in w or "Infinity" in w for w in want):
            if len(got) < len(want):
                problems.append(f"printed {len(got)} of the {len(want)} events that arrived")
        elif got[: len(want)] != want:
            problems.append(
                f"the events printed ({len(got)}) are not the {len(want)} that arrived, unchanged"
            )
        elif not reading.bad and len(got) != len(want):
            problems.append(f"printed {len(got)} events, but {len(want)} arrived")
    if _succeeded(reading) and not reading.bad and code != 0:
        problems.append(f"exit {code} for a run that arrived whole: {err.strip()[:120]}")
    if code == 0 and not _succeeded(reading):
        problems.append("exit 0 for a run whose last event never arrived or failed")
    if code != 0 and not err.strip():
        problems.append(f"exit {code} with nothing said on stderr")
    last = printed[-1] if printed and len(printed) == len(out) else None
    if code == 0 and isinstance(last, dict) and last.get("event") not in terminals(mode):
        problems.append("exit 0 without the run's last event on stdout")
    return problems


def _boundary_cuts(stream: Stream) -> list[int]:
    """Just after each blank line of the body, and one byte before it, plus inside the head."""
    cuts = {len(stream.head) // 2, len(stream.head)}
    at = stream.body.find(b"\n\n")
    while at != -1:
        cuts.update({len(stream.head) + at + 1, len(stream.head) + at + 2})
        at = stream.body.find(b"\n\n", at + 1)
    return sorted(c for c in cuts if c <= len(stream.wire))


@pytest.mark.parametrize("stream", [WORKFLOW, CHATFLOW], ids=lambda s: s.app)
def test_cli_stream_cut_at_event_boundaries(capsys, monkeypatch, server, stream):
    _env(monkeypatch, server, stream.app)
    failures = []
    for cut in _boundary_cuts(stream):
        server.serve(stream.wire[:cut])
        code, out, err = run_cli(capsys, _argv(stream.app))
        body = stream.body[: max(0, cut - len(stream.head))] if cut >= len(stream.head) else b""
        problems = judge_cli_stream(code, out, err, expected(body, stream.mode), mode=stream.mode)
        failures += [f"cut at {cut}: {p}" for p in problems]
    assert not failures, failures


def test_cli_stream_corruptions(capsys, monkeypatch, server):
    _env(monkeypatch, server, "chat")
    failures = []
    for offset, byte in corruptions(CHATFLOW.body, 40, "cli"):
        body = CHATFLOW.body[:offset] + bytes([byte]) + CHATFLOW.body[offset + 1 :]
        server.serve(CHATFLOW.head + body)
        code, out, err = run_cli(capsys, _argv("chat"))
        problems = judge_cli_stream(code, out, err, expected(body, "advanced-chat"), mode="advanced-chat")
        failures += [f"byte {offset} → {byte:#04x}: {p}" for p in problems]
    assert not failures, failures


@pytest.mark.parametrize("name", list(CASES))
def test_cli_malformed_stream(capsys, monkeypatch, server, name):
    content_type, body = CASES[name]
    _env(monkeypatch, server, "wf")
    server.serve(head(content_type) + body)
    code, out, err = run_cli(capsys, _argv("wf"))
    problems = judge_cli_stream(code, out, err, expected(body, "workflow"), mode="workflow")
    assert not problems, (problems, err[-300:])


CLI_BLOCKING = [
    "empty-200-length-0",
    "204",
    "301-location",
    "304",
    "500-deep-json",
    "200-deep-json",
    "gzip",
    "gzip-garbage",
]


@pytest.mark.parametrize("name", CLI_BLOCKING)
def test_cli_blocking_http(capsys, monkeypatch, server, name):
    _env(monkeypatch, server, "chat")
    wire, _judge = BLOCKING[name]
    server.serve(wire)
    code, out, err = run_cli(capsys, _argv("chat", blocking=True))
    assert isinstance(code, int) and "Traceback" not in err, (code, err[-300:])
    text = "\n".join(out)
    if code == 0:
        assert strict_json(text), f"exit 0 with an empty answer: {text!r}"
    else:
        assert err.strip(), "an error exit with nothing on stderr"
        assert not text or strict_json(text) is not None
    assert (code == 0) == (name == "gzip"), (code, text[:200], err[-300:])


CLI_STREAMED = [
    "empty-200",
    "204",
    "301-location",
    "500-deep-json",
    "content-type-mismatch",
    "gzip",
    "gzip-garbage",
]


@pytest.mark.parametrize("name", CLI_STREAMED)
def test_cli_streamed_http(capsys, monkeypatch, server, name):
    _env(monkeypatch, server, "wf")
    wire, _judge = STREAMED[name]
    server.serve(wire)
    code, out, err = run_cli(capsys, _argv("wf"))
    assert isinstance(code, int) and "Traceback" not in err, (code, err[-300:])
    for line in out:
        strict_json(line)
    assert (code == 0) == (name == "gzip"), (code, out[-1:], err[-300:])
    assert code == 0 or err.strip()


@pytest.mark.parametrize("name", ["lone-surrogate", "nan-and-infinity", "utf8-bom"])
def test_cli_process_prints_strict_json_without_traceback(server, name, tmp_path):
    """The real command in its own process, output to a pipe (as scripts read it)."""
    content_type, body = CASES[name]
    server.serve(head(content_type) + body)
    env = dict(os.environ)
    env.update(
        DIFY_BASE_URL=server.base_url,
        DIFY_API_KEY=KEYS["wf"],
        DIFY_APP_ID="wf",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable, "-m", "difytui", *_argv("wf")],
        env=env,
        cwd=tmp_path,  # `python -m` puts the working directory first on sys.path
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = done.stderr.decode("utf-8", "replace")
    try:
        out = done.stdout.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        pytest.fail(f"stdout is not UTF-8: {error}")
    problems = judge_cli_stream(done.returncode, out, err, expected(body, "workflow"), mode="workflow")
    assert not problems, (problems, err[-400:])


@pytest.mark.parametrize("name", list(FINISHED_WITHOUT_STATUS))
@pytest.mark.parametrize("blocking", [False, True], ids=["streaming", "blocking"])
def test_cli_a_run_whose_end_has_no_status_exits_1(capsys, monkeypatch, server, name, blocking):
    _env(monkeypatch, server, "wf")
    server.serve(head() + CASES[f"finished-{name}"][1])
    code, out, err = run_cli(capsys, _argv("wf", blocking=blocking))
    assert code == 1 and "Traceback" not in err, (code, out[-1:], err[-300:])
    assert "the run's end could not be read" in err
    for line in out:
        strict_json(line)
