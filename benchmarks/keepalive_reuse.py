"""Runs that fail because a kept-alive connection was closed by the server (issue 8, item 10).

A loopback server answers each request completely, advertises keep-alive, and then closes the
connection (at once, or up to 2 ms later): what a proxy with a short idle timeout does. The next
request on a pooled connection then races the close and fails with "connection reset" or "server
disconnected". Counted, in this process, for sequential streamed runs:

- ``httpx pooled``: one httpx client reusing its pool for runs (what difytui did before);
- ``httpx fresh``: a pool that keeps no idle connection (``max_keepalive_connections=0``);
- ``Dify`` / ``AsyncDify``: the library as it is (runs go out on fresh connections).

It also shows why retrying is no way out: a server that reads the request (the run has started)
and then dies gives the same error as the stale connection, so the client cannot tell them apart.

    python benchmarks/keepalive_reuse.py [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import threading
import time
from collections import Counter

import httpx

from difytui import AsyncDify, Dify, DifyError

BODY = (
    b'data: {"event":"workflow_started","task_id":"t"}\n\n'
    b'data: {"event":"workflow_finished","task_id":"t","data":{"status":"succeeded"}}\n\n'
)
INFO = b'{"mode": "workflow"}'


def _response(content_type: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (content_type, len(body))
    return head + body


STREAM = _response(b"text/event-stream", BODY)
INFO_RESPONSE = _response(b"application/json", INFO)


class ClosingServer:
    """Answers one request per connection, then closes it (keep-alive advertised all the same)."""

    def __init__(self, close_delay: float, *, die_after_reading: bool = False) -> None:
        self.close_delay = close_delay
        self.die_after_reading = die_after_reading
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            if self.die_after_reading:
                return  # the run started; the server died before answering
            conn.sendall(INFO_RESPONSE if b"/info" in head.split(b"\r\n")[0] else STREAM)
            if self.close_delay:
                time.sleep(random.uniform(0, self.close_delay))


def httpx_runs(url: str, runs: int, limits: httpx.Limits) -> Counter:
    failures: Counter = Counter()
    with httpx.Client(limits=limits) as client:
        for _ in range(runs):
            try:
                with client.stream("POST", url, json={"inputs": {}}) as response:
                    response.read()
            except httpx.HTTPError as error:
                failures[f"{type(error).__name__}: {error}"] += 1
    return failures


def library_runs(base_url: str, runs: int) -> Counter:
    failures: Counter = Counter()
    with Dify(base_url=base_url, apps={"a": "app-x"}, user="bench") as dify:
        for _ in range(runs):
            try:
                list(dify.app.workflow.invoke("a", {}))
            except DifyError as error:
                failures[str(error)] += 1
    return failures


def async_library_runs(base_url: str, runs: int) -> Counter:
    async def main() -> Counter:
        failures: Counter = Counter()
        async with AsyncDify(base_url=base_url, apps={"a": "app-x"}, user="bench") as dify:
            for _ in range(runs):
                try:
                    [event async for event in dify.app.workflow.invoke("a", {})]
                except DifyError as error:
                    failures[str(error)] += 1
        return failures

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    for delay in (0.0, 0.002):
        server = ClosingServer(delay)
        url = server.base_url + "/workflows/run"
        rows = {
            "httpx pooled": httpx_runs(url, args.runs, httpx.Limits()),
            "httpx fresh": httpx_runs(url, args.runs, httpx.Limits(max_keepalive_connections=0)),
            "Dify": library_runs(server.base_url, args.runs),
            "AsyncDify": async_library_runs(server.base_url, args.runs),
        }
        print(f"server closes 0-{delay * 1000:g} ms after each response, {args.runs} sequential runs:")
        for name, failures in rows.items():
            kinds = "; ".join(f"{n}× {kind[:60]}" for kind, n in failures.most_common(2))
            print(f"  {name:>13}: {sum(failures.values()):>4} failed  {kinds}")
    dead = ClosingServer(0.0, die_after_reading=True)
    with httpx.Client() as client:
        try:
            client.post(dead.base_url + "/workflows/run", json={"inputs": {}})
        except httpx.HTTPError as error:
            print(f"a server that read the run, then died: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
