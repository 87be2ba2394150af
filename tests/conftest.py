"""Shared fixtures: a simulator on loopback, and one client API in two flavours (sync / async)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from difytui.client import AsyncDify, AsyncEventStream, Dify, EventStream
from difytui.sim import Simulator


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl+C behaves as in a terminal, also when pytest runs as a background job (``pytest &``,
    a CI step): the shell then starts it with SIGINT ignored, Python keeps it ignored, and so do
    the CLI processes the tests start, so a Ctrl+C test saw no KeyboardInterrupt (the CLI ran to
    its end and exited 0 instead of 130)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """No test reads or writes the real user's config, data or keyring, or another test's: each
    has its own directories (tests run in random order and in parallel workers)."""
    monkeypatch.setenv("DIFYTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DIFYTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DIFYTUI_TOKEN_STORAGE", "file")
    for name in ("DIFYTUI_CONFIG", "DIFY_BASE_URL", "DIFY_API_KEY", "DIFY_USER", "DIFY_APP_ID", "DIFY_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _collector_left_as_found() -> Iterator[None]:
    """The console tunes the process's garbage collector (freeze, thresholds: tui/gc_policy.py). A
    test that leaves it changed fails here, itself, not some later test of the same worker that
    happens to read it (CI once saw a frozen collector from an earlier console)."""
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    yield
    after = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    if after != before:
        gc.enable()
        gc.set_threshold(*before[1])
        gc.unfreeze()
        pytest.fail(f"the collector was left changed (enabled, thresholds, frozen): {before} → {after}")


@pytest.fixture
def config(tmp_path: Any, sim: Simulator) -> str:
    """A config file for a workspace ``test`` of every app on the test simulator (user ``cli``)."""
    path = tmp_path / "config.toml"
    path.write_text(sim.config_toml("test", user="cli"))
    return str(path)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token_delay=0.0) as simulator:
        yield simulator


def _resolve(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


class SyncAPI:
    """Calls ``Dify`` methods by dotted name; a streaming result is read to the end."""

    kind = "sync"

    def __init__(self, **kwargs: Any) -> None:
        self.client = Dify(**kwargs)

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = _resolve(self.client, name)(*args, **kwargs)
        return list(result) if isinstance(result, EventStream) else result

    def collect(self, name: str, *args: Any, **kwargs: Any) -> tuple[list[dict], Exception | None]:
        """The events received before the stream ended, and the error that ended it (if any)."""
        events: list[dict] = []
        try:
            for event in _resolve(self.client, name)(*args, **kwargs):
                events.append(event)
        except Exception as error:
            return events, error
        return events, None

    def close(self) -> None:
        self.client.close()


class AsyncAPI:
    """The same calls on ``AsyncDify``, run to completion on a private event loop."""

    kind = "async"

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = AsyncDify(**kwargs)

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            result = _resolve(self.client, name)(*args, **kwargs)
            if isinstance(result, AsyncEventStream):
                return [event async for event in result]
            return await result

        return self.loop.run_until_complete(run())

    def collect(self, name: str, *args: Any, **kwargs: Any) -> tuple[list[dict], Exception | None]:
        events: list[dict] = []

        async def run() -> Exception | None:
            try:
                async for event in _resolve(self.client, name)(*args, **kwargs):
                    events.append(event)
            except Exception as error:
                return error
            return None

        return events, self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@contextlib.contextmanager
def api_maker(kind: str, **defaults: Any) -> Iterator[Callable[..., SyncAPI | AsyncAPI]]:
    """``make(**overrides)`` → a SyncAPI or AsyncAPI (``kind``) built with ``defaults``; all closed after."""
    made: list[SyncAPI | AsyncAPI] = []

    def make(**overrides: Any) -> SyncAPI | AsyncAPI:
        api = (SyncAPI if kind == "sync" else AsyncAPI)(**{**defaults, **overrides})
        made.append(api)
        return api

    try:
        yield make
    finally:
        for api in made:
            api.close()


@pytest.fixture(params=["sync", "async"])
def make_api(request, sim):
    """``make_api(**client_kwargs)`` → a SyncAPI or AsyncAPI on the simulator's demo workspace."""
    with api_maker(request.param, base_url=sim.base_url, apps=sim.apps_config(), user="tester") as make:
        yield make


@pytest.fixture
def api(make_api):
    return make_api()
