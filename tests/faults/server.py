"""A loopback HTTP server that answers with exact bytes: fault injection, and what proxies, gateways
and broken plugins send.

It speaks just enough HTTP/1.1 to read a request; every answer is a script of raw actions (send
bytes, drip them, wait for the test, stall until the client hangs up, close, reset), so a test
controls the framing, headers, cuts and timing byte for byte. ``/info``, ``/parameters`` (for the
keys given to ``app``) and ``/stop`` are answered at once on kept-alive connections, like Dify
does; every other request plays the script set with ``serve``. The tests' server runs per test
process (tests/faults/conftest.py) on its own thread and event loop; tests read what it saw from
``requests`` and ``notes``, and wait on them with ``wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

#: A stalled or dripping connection is given up after this long even if the client never hangs up,
#: so a client that ignores its timeouts fails its test instead of hanging the run.
SAFETY_CAP = 20.0


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class Drip:
    """``data`` one byte per write, ``interval`` seconds apart (0: as fast as the loop goes)."""

    data: bytes
    interval: float = 0.0


@dataclass(frozen=True)
class Repeat:
    """``data`` every ``interval`` seconds until the client hangs up (a keep-alive that never ends)."""

    data: bytes
    interval: float


@dataclass(frozen=True)
class Gate:
    """Wait until the test calls ``FaultServer.open_gate()`` (e.g. after it consumed an event)."""


@dataclass(frozen=True)
class Stall:
    """Send nothing more; wait until the client hangs up."""


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0) instead of a FIN."""


@dataclass(frozen=True)
class KeepAlive:
    """Keep the connection for another request; ``reset_next``: answer that one with a RST."""

    reset_next: bool = False


Action = Send | Drip | Repeat | Gate | Stall | Reset | KeepAlive
Script = tuple[Action, ...]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int = 0  # which TCP connection carried it (1, 2, … in the order they were accepted)


@dataclass
class _Routes:
    run: Script = ()
    #: fixed answers by path suffix (``/info``, ``/parameters``), then by the app key
    fixed: dict[tuple[str, str], bytes] = field(default_factory=dict)


def response(
    body: bytes | str,
    status: str = "200 OK",
    *,
    content_type: str | None = "application/json",
    length: bool = True,
    close: bool = True,
    extra: tuple[str, ...] = (),
) -> bytes:
    """A complete HTTP/1.1 response, built byte for byte."""
    raw = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length:
        lines.append(f"Content-Length: {len(raw)}")
    if close:
        lines.append("Connection: close")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw


class FaultServer:
    def __init__(self) -> None:
        self._routes = _Routes()
        self.requests: list[Request] = []
        #: what the server noticed: ("at", "gate"|"drip"|"repeat"|"stall") when it reached that
        #: action, ("hung-up", "gate"|"stall"|"repeat"|"drip after N of M bytes"), ("capped", …)
        #: when a client never hung up, ("reset", …)
        self.notes: list[tuple[str, str]] = []
        self._connections = 0
        self._loop = asyncio.new_event_loop()
        self._gate = asyncio.Event()
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._main, name="fault-server", daemon=True)
        self.port = 0

    # -- the test's side -------------------------------------------------------------------

    def start(self) -> FaultServer:
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self, key: str, mode: str, parameters: bytes | None = None) -> None:
        """Answer ``/info`` (and ``/parameters``) for requests bearing ``key``."""
        info = json.dumps({"name": key, "description": "", "tags": [], "mode": mode, "author_name": "x"})
        params = parameters or response(json.dumps({"user_input_form": [], "file_upload": {}}))
        self._routes.fixed[("/info", key)] = response(info, close=False)
        self._routes.fixed[("/parameters", key)] = params

    def serve(self, *script: Action | bytes) -> None:
        """The script for the next run requests (POST .../run, .../chat-messages, .../completion-messages)."""
        self._routes.run = tuple(Send(a) if isinstance(a, bytes) else a for a in script)
        self._gate = asyncio.Event()
        with self._changed:
            self.requests.clear()
            self.notes.clear()

    def open_gate(self) -> None:
        self._loop.call_soon_threadsafe(self._gate.set)

    def wait(self, predicate: Callable[[], bool], timeout: float = SAFETY_CAP) -> bool:
        """Wait until ``predicate()`` holds for what the server recorded (requests, notes)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _record(self, where: list, item: object) -> None:
        with self._changed:
            where.append(item)
            self._changed.notify_all()

    def runs(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and not r.path.endswith("/stop")]

    def stops(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/stop")]

    # -- the server's side -----------------------------------------------------------------

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=256)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            # Connections still open (kept alive, or a client that never hung up) end here.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._connections += 1
        connection = self._connections
        reset_next = False
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                if reset_next:
                    self._record(self.notes, ("reset", "reused connection"))
                    _reset(writer)
                    return
                request.connection = connection
                self._record(self.requests, request)
                script = self._script_for(request)
                keep = await self._play(script, reader, writer)
                if keep is None:
                    break
                reset_next = keep.reset_next
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, asyncio.TimeoutError):
            pass
        with contextlib.suppress(OSError):
            writer.close()

    def _script_for(self, request: Request) -> Script:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        for (suffix, app_key), answer in self._routes.fixed.items():
            if request.path.split("?", 1)[0].endswith(suffix) and app_key == key:
                return (Send(answer), KeepAlive())
        if request.path.endswith("/stop"):
            return (Send(response('{"result": "success"}', close=False)), KeepAlive())
        if request.path.split("?", 1)[0].endswith("/events"):  # a re-attach: this server keeps no runs
            unknown = '{"code": "not_found", "message": "Workflow run not found", "status": 404}'
            return (Send(response(unknown, "404 NOT FOUND", close=False)), KeepAlive())
        return self._routes.run

    async def _play(
        self, script: Script, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> KeepAlive | None:
        """Run one answer; a KeepAlive means: read the next request on this connection."""
        for action in script:
            if isinstance(action, Send):
                writer.write(action.data)
                await writer.drain()
            elif isinstance(action, Drip):
                self._record(self.notes, ("at", "drip"))
                i = 0
                try:
                    for i in range(len(action.data)):
                        writer.write(action.data[i : i + 1])
                        await writer.drain()
                        if action.interval:
                            await asyncio.sleep(action.interval)
                except ConnectionError:
                    self._record(self.notes, ("hung-up", f"drip after {i} of {len(action.data)} bytes"))
                    return None
            elif isinstance(action, Repeat):
                self._record(self.notes, ("at", "repeat"))
                await self._until_hangup(reader, "repeat", _repeat(writer, action.data, action.interval))
                return None
            elif isinstance(action, Gate):
                self._record(self.notes, ("at", "gate"))
                if not await self._gate_or_hangup(reader):
                    return None
            elif isinstance(action, Stall):
                self._record(self.notes, ("at", "stall"))
                await self._until_hangup(reader, "stall", None)
                return None
            elif isinstance(action, Reset):
                self._record(self.notes, ("reset", "scripted"))
                _reset(writer)
                return None
            elif isinstance(action, KeepAlive):
                return action
        return None

    async def _gate_or_hangup(self, reader: asyncio.StreamReader) -> bool:
        """Wait for the test to open the gate (True), or for the client to hang up (False)."""
        opened = asyncio.ensure_future(asyncio.wait_for(self._gate.wait(), SAFETY_CAP))
        hangup = asyncio.ensure_future(reader.read())  # a client sends nothing more: this ends at EOF
        try:
            await asyncio.wait({opened, hangup}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hangup.cancel()
        if hangup.done() and not hangup.cancelled():
            hangup.exception()  # a reset is a hang-up too
        if opened.done():
            if opened.exception() is not None:  # never opened (SAFETY_CAP)
                self._record(self.notes, ("capped", "gate"))
                return False
            return True
        opened.cancel()
        self._record(self.notes, ("hung-up", "gate"))
        return False

    async def _until_hangup(
        self, reader: asyncio.StreamReader, what: str, meanwhile: Coroutine[Any, Any, None] | None
    ) -> None:
        """Read (and drop) until the client hangs up, running ``meanwhile`` (a writer) alongside."""
        task = asyncio.ensure_future(meanwhile) if meanwhile else None
        try:
            while await asyncio.wait_for(reader.read(65536), SAFETY_CAP):
                pass
            self._record(self.notes, ("hung-up", what))
        except (TimeoutError, asyncio.TimeoutError):
            self._record(self.notes, ("capped", what))
        except ConnectionError:
            self._record(self.notes, ("hung-up", what))
        finally:
            if task:
                task.cancel()


async def _repeat(writer: asyncio.StreamWriter, data: bytes, interval: float) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while True:
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(interval)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return Request(method, path, headers, body)
