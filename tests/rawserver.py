"""A loopback HTTP/1.1 server that answers runs with exact bytes: what a proxy or a broken plugin sends.

``GET …/info`` answers ``{"mode": mode}``, ``GET …/parameters`` an empty form, and ``POST …/stop`` is
recorded and answered with success (all kept alive); every other request gets the next script queued
with ``serve()``, and the connection is closed after it. A script is bytes, ``Drip``s and ``Repeat``s.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class Seen:
    connection: int  # which TCP connection carried it (1, 2, …)
    method: str
    path: str
    body: bytes


@dataclass
class Drip:
    """``data`` one byte at a time, ``interval`` seconds apart."""

    data: bytes
    interval: float


@dataclass
class Repeat:
    """``data`` again and again, ``interval`` seconds apart, until the client hangs up."""

    data: bytes
    interval: float


def sse(event: dict) -> bytes:
    """One event as Dify's orjson writes it: compact, UTF-8 as is."""
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def head(content_type: str = "text/event-stream", status: str = "200 OK", *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", *extra, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body: bytes, status: str = "200 OK", content_type: str = "application/json", *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode() + body


class RawServer:
    def __init__(self, mode: str = "workflow") -> None:
        self.mode = mode
        self.requests: list[Seen] = []
        #: bytes of a Drip sent before the client hung up (set when the server noticed)
        self.hung_up_after: int | None = None
        self.hung_up = threading.Event()
        self._scripts: deque[tuple] = deque()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def serve(self, *script: bytes | Drip | Repeat) -> None:
        self._scripts.append(script)

    def stops(self) -> list[str]:
        return [seen.path for seen in self.requests if seen.path.endswith("/stop")]

    def runs(self) -> list[Seen]:
        return [seen for seen in self.requests if not seen.path.endswith(("/stop", "/info", "/parameters"))]

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
            threading.Thread(target=self._handle, args=(conn, number), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        with conn, contextlib.suppress(OSError):
            reader = conn.makefile("rb")
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                method, path, body = request
                self.requests.append(Seen(number, method, path, body))
                if path.endswith("/info"):
                    conn.sendall(_kept_alive(json.dumps({"mode": self.mode, "name": "raw"}).encode()))
                elif path.endswith("/parameters"):
                    conn.sendall(_kept_alive(b'{"user_input_form": []}'))
                elif path.endswith("/stop"):
                    conn.sendall(_kept_alive(b'{"result": "success"}'))
                else:
                    self._play(conn, self._scripts.popleft() if self._scripts else (answer(b"{}", "404"),))
                    return

    def _play(self, conn: socket.socket, script: tuple) -> None:
        for part in script:
            if isinstance(part, Drip):
                for sent, byte in enumerate(part.data):
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        self.hung_up_after = sent
                        self.hung_up.set()
                        raise
                    time.sleep(part.interval)
            elif isinstance(part, Repeat):
                while True:  # until the client hangs up (sendall raises)
                    conn.sendall(part.data)
                    time.sleep(part.interval)
            else:
                conn.sendall(part)
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(10)
        conn.recv(1)  # wait for the client to close, so it reads everything before the FIN


def _kept_alive(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _read_request(reader) -> tuple[str, str, bytes] | None:
    line = reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    length = 0
    while True:
        header = reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return method, target.split("?", 1)[0], reader.read(length) if length else b""
