"""Running one case against ``Dify`` or ``AsyncDify``, and judging its outcome.

A case's outcome is what the caller saw: the events delivered, then a clean end, a ``DifyError``,
or anything else (a crash). The judges return a list of problems (empty: the case passed), so a
test can run thousands of cases and report every one that failed, not just the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from difytui.client import AsyncDify, Dify, ReconnectPolicy, ResponseMode
from difytui.errors import DifyError

from .server import FaultServer
from .wire import Reading, canon, expected, terminals

KEYS = {"wf": "app-wf", "chat": "app-chat", "done": "app-done"}
MODES = {"wf": "workflow", "chat": "advanced-chat", "done": "chat"}


@dataclass
class Outcome:
    events: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None  # a blocking call's answer
    error: DifyError | None = None
    crash: str | None = None

    def describe(self) -> str:
        end = self.crash or (_short(self.error) if self.error else "clean end")
        return f"{len(self.events)} events, {end}"


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 160 else text[:159] + "…"


def _invoke(client: Dify | AsyncDify, app: str, response_mode: ResponseMode) -> Any:
    if MODES[app] == "workflow":
        return client.app.workflow.invoke(app, {}, response_mode)
    return client.app.chat.invoke(app, "hi", {}, response_mode)


class Runner:
    """One client flavour (sync or async) on the fault server, reused across cases."""

    def __init__(self, kind: str, server: FaultServer, **client_kwargs: Any) -> None:
        self.kind = kind
        self.server = server
        # One connection's faults: a dropped workflow is not re-attached here (tests/test_reconnect_runs.py).
        kwargs: dict[str, Any] = {
            "base_url": server.base_url,
            "apps": KEYS,
            "user": "faults",
            "reconnect": ReconnectPolicy(attempts=0),
        }
        kwargs.update(client_kwargs)
        if kind == "sync":
            self.client: Dify | AsyncDify = Dify(**kwargs)
            self.loop: asyncio.AbstractEventLoop | None = None
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncDify(**kwargs)

    def close(self) -> None:
        if isinstance(self.client, AsyncDify):
            assert self.loop is not None
            self.loop.run_until_complete(self.client.close())
            self.loop.close()
        else:
            self.client.close()

    def stream(self, app: str, *, gate_after: int | None = None) -> Outcome:
        """Run ``app`` streaming; with ``gate_after``, open the server's gate once that many events
        were consumed (0: as soon as the stream is open)."""
        if self.loop is None:
            return self._sync_stream(app, gate_after)
        return self.loop.run_until_complete(self._async_stream(app, gate_after))

    def blocking(self, app: str, *, gate_after: int | None = None) -> Outcome:
        """Run ``app`` blocking; with ``gate_after``, open the server's gate once the client folded
        that many events of the stream it reads under the hood."""
        outcome = Outcome()
        if gate_after is not None:
            self._observe_folds(gate_after)
        try:
            if self.loop is None:
                outcome.result = _invoke(self.client, app, "blocking")
            else:
                outcome.result = self.loop.run_until_complete(_invoke(self.client, app, "blocking"))
        except DifyError as error:
            outcome.error = error
        except Exception as error:
            outcome.crash = _short(error)
        finally:
            vars(self.client).pop("_folder", None)
        return outcome

    def _observe_folds(self, gate_after: int) -> None:
        """Count the events the client folds (an observer on its own Folder; nothing else changes)."""
        client = self.client
        make = type(client)._folder

        def folder(mode: str, response: Any) -> Any:
            made = make(client, mode, response)
            add, folded = made.add, [0]

            def counted(event: dict[str, Any]) -> None:
                add(event)
                folded[0] += 1
                self._gate(gate_after, folded[0])

            made.add = counted
            return made

        client._folder = folder  # type: ignore[method-assign]

    def call(self, fn: Callable[[Dify | AsyncDify], Any]) -> Outcome:
        """Any other client call (``fn`` returns the value, or a coroutine for the async client)."""
        outcome = Outcome()
        try:
            value = fn(self.client)
            outcome.result = value if self.loop is None else self.loop.run_until_complete(value)
        except DifyError as error:
            outcome.error = error
        except Exception as error:
            outcome.crash = _short(error)
        return outcome

    def _gate(self, gate_after: int | None, consumed: int) -> None:
        if gate_after is not None and consumed == gate_after:
            self.server.open_gate()

    def _sync_stream(self, app: str, gate_after: int | None) -> Outcome:
        outcome = Outcome()
        try:
            stream = _invoke(self.client, app, "streaming")
            self._gate(gate_after, 0)
            with stream:
                for event in stream:
                    outcome.events.append(event)
                    self._gate(gate_after, len(outcome.events))
        except DifyError as error:
            outcome.error = error
        except Exception as error:
            outcome.crash = _short(error)
        return outcome

    async def _async_stream(self, app: str, gate_after: int | None) -> Outcome:
        outcome = Outcome()
        try:
            stream = _invoke(self.client, app, "streaming")
            async with stream:
                self._gate(gate_after, 0)
                async for event in stream:
                    outcome.events.append(event)
                    self._gate(gate_after, len(outcome.events))
        except DifyError as error:
            outcome.error = error
        except Exception as error:
            outcome.crash = _short(error)
        return outcome


# -- judges --------------------------------------------------------------------------------------


def judge_stream(outcome: Outcome, reading: Reading, mode: str) -> list[str]:
    """The four rules, for a streamed run whose arrived bytes read as ``reading``."""
    if outcome.crash:
        return [f"crash (not a DifyError): {outcome.crash}"]
    problems = []
    got = [canon(e) for e in outcome.events]
    want = [canon(e) for e in reading.events]
    if got[: len(want)] != want:
        kept = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), len(got))
        problems.append(f"events that fully arrived were lost or changed from #{kept} ({len(want)} arrived)")
    if not reading.bad and len(got) > len(want):
        problems.append(f"delivered {len(got) - len(want)} event(s) that never fully arrived")
    if outcome.error is None:
        last = outcome.events[-1].get("event") if outcome.events else None
        if not reading.terminal or last not in terminals(mode):
            problems.append(
                "ended cleanly without the run's last event (a cut or broken run passed as success)"
            )
    elif reading.terminal and not reading.bad:
        problems.append(f"raised although the whole run arrived: {_short(outcome.error)}")
    return problems


def judge_error(outcome: Outcome, *, events: list[dict[str, Any]] | None = None) -> list[str]:
    """A case that must end in a DifyError (after delivering ``events``, if given)."""
    if outcome.crash:
        return [f"crash (not a DifyError): {outcome.crash}"]
    problems = []
    if outcome.error is None:
        problems.append(f"no error: a broken answer passed as success ({outcome.result!r:.80})")
    if events is not None and [canon(e) for e in outcome.events] != [canon(e) for e in events]:
        problems.append(f"delivered {len(outcome.events)} events, expected the {len(events)} that arrived")
    return problems


def judge_blocking(outcome: Outcome, answer: dict[str, Any] | None) -> list[str]:
    """A blocking run: ``answer`` is the object that fully arrived (None: it did not)."""
    if outcome.crash:
        return [f"crash (not a DifyError): {outcome.crash}"]
    if outcome.error is not None:
        return (
            [] if answer is None else [f"raised although the whole answer arrived: {_short(outcome.error)}"]
        )
    if not outcome.result:
        return [f"an empty answer counted as success: {outcome.result!r}"]
    if answer is None:
        return ["returned an answer although it never fully arrived"]
    if canon(outcome.result) != canon(answer):
        return ["returned an answer that differs from the one sent"]
    return []


def run_streamed(runner: Runner, app: str, wire: list[Any], body: bytes | None, **kw: Any) -> list[str]:
    """Serve ``wire``, run ``app`` streaming, judge against ``body`` (the event-stream bytes that
    arrive; None: the response head never completed, so nothing may be delivered)."""
    runner.server.serve(*wire)
    outcome = runner.stream(app, **kw)
    mode = MODES[app]
    if body is None:
        return judge_error(outcome, events=[])
    return judge_stream(outcome, expected(body, mode), mode)


def report(failures: list[str], total: int) -> str:
    shown = "\n".join(failures[:25])
    more = f"\n… and {len(failures) - 25} more" if len(failures) > 25 else ""
    return f"{len(failures)} of {total} cases failed:\n{shown}{more}"
