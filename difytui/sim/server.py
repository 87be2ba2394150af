"""HTTP/1.1 and SSE plumbing on asyncio streams: parse requests, write responses and paced streams.

Knows nothing about Dify's semantics (that is :mod:`.api`); it applies pacing, pings, faults and
``chunk_seed`` piece-wise writes so clients meet realistic network behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import wire
from .api import Api
from .drops import drop
from .events import events_for
from .faults import STREAM_FAULTS, error_event, fault_response, pause_events
from .human_input_relay import RelayMixin, _Disconnected
from .run_log import Suspend
from .runs import Pause, Raw, Run, Stream

if TYPE_CHECKING:
    from .simulator import Simulator

_MAX_HEAD = 64 * 1024
_MAX_BODY = 200 * 1024 * 1024


@dataclass
class Request:
    """A received request as tests see it (attribute or item access)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    json: Any = None
    raw_target: str = ""
    #: when the request was read (time.monotonic()), for tests about ordering and overlap
    received_at: float = 0.0
    #: console API calls only: whether X-CSRF-Token matched the session's csrf_token cookie
    csrf_ok: bool | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError:
        raise _Disconnected from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise _Disconnected from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += (await reader.readexactly(size + 2))[:-2]
    else:
        length = int(headers.get("content-length") or 0)
        if length > _MAX_BODY:
            raise _Disconnected
        body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    parsed_json = None
    if body and "json" in headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            parsed_json = json.loads(body)
    return Request(
        method=method.upper(),
        path=unquote(parts.path),
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        body=body,
        json=parsed_json,
        raw_target=target,
    )


class Server(RelayMixin):
    """One instance per Simulator; ``connection`` is the asyncio.start_server callback."""

    def __init__(self, sim: Simulator, api: Api, dispatch=None) -> None:
        self.sim = sim
        self.api = api
        #: request → Response | Stream; the Service API's router unless the facade routes more
        self.dispatch = dispatch or api.dispatch
        self.rng = random.Random(sim.chunk_seed) if sim.chunk_seed is not None else None
        self.connections: set[asyncio.Task] = set()
        #: resumed runs being driven after a form submit (kept so the tasks are not collected)
        self.resumed: set[asyncio.Task] = set()
        api.resumer = self._resume

    # --- connection loop ------------------------------------------------------------------------

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection in its own task
        self.connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                # Without NODELAY, Nagle would glue chunk_seed pieces back together.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                req = await read_request(reader)
                if req is None:
                    break
                req.received_at = time.monotonic()
                self.sim.requests.append(req)
                keep_alive = req.headers.get("connection", "").lower() != "close"
                if not await self._respond(req, reader, writer) or not keep_alive:
                    break
        except (_Disconnected, ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Shutdown. Swallowed: asyncio's start_server callback logs cancelled handlers (3.11).
            writer.transport.abort()
        finally:
            self.connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, req: Request, reader, writer) -> bool:
        """Answer one request; False when the connection must not be reused."""
        fault = self.sim._peek_fault(req.path)
        if fault is not None and fault["kind"] == "delay":  # a slow server: answer normally, later
            self.sim._consume_fault(fault)
            await asyncio.sleep(fault.get("seconds", 0.5))
            fault = self.sim._peek_fault(req.path)
        if fault is not None and fault["kind"] == "status":
            self.sim._consume_fault(fault)
            await self._write_response(writer, fault_response(fault))
            return True
        result = self.dispatch(req)
        if isinstance(result, wire.Response):
            if result.generated and self.sim.run_latency > 0:
                await asyncio.sleep(self.sim.run_latency)
            await self._write_response(writer, result, head_only=req.method == "HEAD")
            return True
        if fault is not None and fault["kind"] in STREAM_FAULTS:
            self.sim._consume_fault(fault)
        else:
            fault = None
        return await self._write_stream(reader, writer, result, fault)

    # --- writing --------------------------------------------------------------------------------

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if writer.transport.is_closing():
            raise _Disconnected
        if self.rng is None or not data:
            writer.write(data)
            await writer.drain()
            return
        pos = 0
        while pos < len(data):
            n = self.rng.randint(1, 24)
            writer.write(data[pos : pos + n])
            pos += n
            await writer.drain()
            await asyncio.sleep(0)

    async def _send_chunk(self, writer, data: bytes) -> None:
        if self.rng is None:
            await self._send(writer, b"%x\r\n%s\r\n" % (len(data), data))
            return
        # Each random piece becomes its own HTTP chunk, so the client's decoded body really
        # arrives cut at arbitrary byte offsets (inside UTF-8 sequences and SSE frames too).
        pos = 0
        while pos < len(data):
            n = self.rng.randint(1, 24)
            piece = data[pos : pos + n]
            pos += n
            if writer.transport.is_closing():
                raise _Disconnected
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0)

    async def _write_response(self, writer, resp: wire.Response, head_only=False) -> None:
        lines = [f"HTTP/1.1 {resp.status} {wire.reason(resp.status)}"]
        if resp.content_type:
            lines.append(f"Content-Type: {resp.content_type}")
        if resp.status != 204:
            lines.append(f"Content-Length: {len(resp.body)}")
        lines += wire.header_lines(resp.headers)
        if not resp.bare:
            lines += [f"{k}: {v}" for k, v in wire.BASE_HEADERS.items()]
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        await self._send(writer, head if head_only else head + resp.body)

    async def _write_stream(self, reader, writer, stream: Stream, fault: dict | None) -> bool:
        lines = [f"HTTP/1.1 200 {wire.reason(200)}"]
        if stream.listen is not None:  # Dify's /events response sets these two first (A13)
            lines += ["Cache-Control: no-cache", "Connection: keep-alive"]
        lines.append(f"Content-Type: {wire.SSE}")
        base = wire.BASE_HEADERS if stream.headers is None else stream.headers
        lines += [f"{k}: {v}" for k, v in base.items()]
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        lines.append("Transfer-Encoding: chunked")
        await self._send(writer, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if stream.error is not None:
            return await self._error_then_silence(reader, writer, stream.error)
        if stream.listen is not None:
            return await self._listen(writer, stream.listen)
        assert stream.run is not None  # a Stream holds a run or an error
        return await self._pump(writer, stream.run, fault)

    async def _error_then_silence(self, reader, writer, message: str) -> bool:
        await self._send_chunk(writer, wire.PING_FRAME)
        await self._send_chunk(writer, wire.sse_frame({"event": "error", "message": message, "status": 500}))
        # Dify's relay ignores `error` and idles until its timeout; wake early only if the
        # client hangs up (reading EOF), so the task does not linger.
        eof = asyncio.ensure_future(reader.read(1))
        try:
            await asyncio.wait_for(asyncio.shield(eof), self.sim.error_silence)
        except asyncio.TimeoutError:
            # The watch must be gone before the stream ends: a reader still waiting would take the
            # first byte of the client's next request, or make reading it fail (one waiter only).
            eof.cancel()
            await asyncio.wait({eof})
            await self._send(writer, b"0\r\n\r\n")
            return True
        finally:
            eof.cancel()
        return False

    async def _pump(self, writer, run: Run, fault: dict | None) -> bool:
        run.stop_event = asyncio.Event()
        self.api.running[run.task_id] = run
        lock = asyncio.Lock()

        async def emit(data: bytes) -> None:
            async with lock:
                await self._send_chunk(writer, data)

        if run.path_b:
            await emit(wire.PING_FRAME)  # the Celery relay pings as soon as it subscribes
        pinger = asyncio.ensure_future(self._pinger(emit))
        events = events_for(run)
        sent = 0
        after = fault.get("after", 0) if fault else 0
        try:
            if self.sim.run_latency > 0:  # the model's time to first token: once per run
                await self._pause(run, self.sim.run_latency)
            for item in events:
                if isinstance(item, Suspend):  # paused on a form: the relay ends the stream (fact 2)
                    break
                if isinstance(item, Pause):
                    if not _hold_due(fault, sent, after):
                        await self._pause(run, item.factor * self.sim.token_delay)
                    continue
                if fault is not None and sent >= after:
                    if fault["kind"] == "drop":  # the connection goes, the run goes on
                        pinger.cancel()
                        return await drop(self, writer, fault, run, item, events, lock)
                    if fault["kind"] != "hold":
                        return await self._apply_fault(writer, fault, run, events, lock)
                    # Hold the run at this point until it is stopped, so a test's stop lands
                    # exactly here, however slow the machine.
                    let_through = await self._hold(run, fault.get("seconds", 30.0))
                    if let_through:  # released by the test: held again after these events
                        after = sent + let_through
                    else:
                        fault = None
                if isinstance(item, Raw):
                    data, n = item.data, item.count
                else:
                    data, n = wire.sse_frame(item), 1
                await emit(data)
                sent += n
                if not isinstance(item, Raw) and not _hold_due(fault, sent, after):
                    await self._pause(run, self.sim.token_delay)
            pinger.cancel()
            async with lock:
                await self._send(writer, b"0\r\n\r\n")
            return True
        except (_Disconnected, ConnectionError):
            pinger.cancel()
            self.api.running.pop(run.task_id, None)
            await self._detached(run, events)
            return False
        finally:
            pinger.cancel()
            self.api.running.pop(run.task_id, None)

    async def _detached(self, run: Run, events) -> None:
        """The client left. As in Dify, that does not stop the run: it goes on at its pace (for
        history) until it ends or a stop call reaches it, whichever comes first."""
        self.api.detached[run.task_id] = run
        try:
            for item in events:
                if isinstance(item, Suspend):
                    break
                if isinstance(item, Pause):
                    await self._pause(run, item.factor * self.sim.token_delay)
                elif not isinstance(item, Raw):
                    await self._pause(run, self.sim.token_delay)
        finally:
            self.api.detached.pop(run.task_id, None)

    async def _apply_fault(self, writer, fault, run, events, lock) -> bool:
        _abandon(run, events)
        kind = fault["kind"]
        async with lock:
            if kind == "cut":
                writer.transport.abort()  # RST, no terminating chunk
                return False
            if kind == "malformed":
                await self._send_chunk(writer, b"data: <not json>\n\n")
            if kind == "error":
                await self._send_chunk(writer, wire.sse_frame(error_event(run, fault)))
            if kind == "pause":  # a Human Input node: the relay ends the stream after workflow_paused
                for event in pause_events(run):
                    await self._send_chunk(writer, wire.sse_frame(event))
            await self._send(writer, b"0\r\n\r\n")
        return kind != "malformed"

    async def _pinger(self, emit) -> None:
        while True:
            await asyncio.sleep(self.sim.ping_interval)
            await emit(wire.PING_FRAME)

    async def _hold(self, run: Run, seconds: float) -> int:
        """Hold ``run`` until it is stopped or ``seconds`` pass (then 0: it goes on), or a test lets
        some events through (:meth:`~.simulator.Simulator.release_holds`): how many."""
        if run.stopped:
            return 0
        assert run.stop_event is not None  # attached by _pump
        release: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.api.held[run.task_id] = release
        stopped = asyncio.ensure_future(run.stop_event.wait())
        try:
            await asyncio.wait({stopped, release}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            self.api.held.pop(run.task_id, None)
        return release.result() if release.done() and not run.stopped else 0

    @staticmethod
    async def _pause(run: Run, seconds: float) -> None:
        if seconds <= 0 or run.stopped:
            await asyncio.sleep(0)
            return
        assert run.stop_event is not None  # attached by _pump before the first pause
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(run.stop_event.wait(), seconds)


def _hold_due(fault: dict | None, sent: int, after: int) -> bool:
    """A hold fault is due: the next event is drawn and held at once. No pause comes first, where
    a stop sent on the last event could land before the hold, so the held point would depend on
    the machine's speed."""
    return fault is not None and fault["kind"] == "hold" and sent >= after


def _abandon(run: Run, events) -> None:
    """The client is gone (or a fault ended the stream): finish the run silently for history."""
    run.stop()
    for item in events:
        if isinstance(item, Suspend):
            break
