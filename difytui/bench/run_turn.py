"""One request of a run and its stream, into a :class:`TurnResult`: a 429 waited out and retried,
a timeout or a cancel stopping the run on the server, an error told with Dify's code and message."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.bench.turns import fold_event
from difytui.errors import DifyAPIError, DifyError
from difytui.form_files import is_url, to_file

if TYPE_CHECKING:
    from difytui.bench.clients import Endpoint
    from difytui.bench.model import Case, TurnResult
    from difytui.streams import AsyncEventStream

#: How often a 429 is waited out before the run counts as an error.
RATE_LIMIT_RETRIES = 5
#: Wait after a 429 that names no Retry-After.
RATE_LIMIT_WAIT = 1.0
#: Seconds a stop call may take when a run is given up.
STOP_TIMEOUT = 5.0


async def run_turn(
    endpoint: Endpoint,
    case: Case,
    turn: TurnResult,
    conversation_id: str | None,
    on_start: Callable[[], None],
) -> str | None:
    """Fill ``turn`` from one request's stream; the error that made it incomplete, or None."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        stream = _open(endpoint, case, turn.query, conversation_id)
        started = time.monotonic()
        clock = endpoint.dify.clock  # the client's: a test moves it once its run got where it wants
        try:
            return await clock.within(_consume(stream, turn, started, on_start), clock.now() + case.timeout_s)
        except DifyAPIError as error:
            await stream.aclose()
            if error.status == 429 and turn.task_id is None and attempt < RATE_LIMIT_RETRIES:
                await asyncio.sleep(error.retry_after if error.retry_after is not None else RATE_LIMIT_WAIT)
                continue  # the run never started
            return _api_error(error)
        except DifyError as error:
            await stream.aclose()
            return str(error)
        except asyncio.TimeoutError:
            await _give_up(endpoint, stream, turn)
            return f"timed out after {case.timeout_s:g} s" + _stopped(turn)
        except asyncio.CancelledError:
            await _give_up(endpoint, stream, turn)
            raise
        finally:
            if turn.task_id is None:
                turn.task_id = stream.task_id
    return None  # not reached: the last attempt returns


async def _consume(
    stream: AsyncEventStream, turn: TurnResult, started: float, on_start: Callable[[], None]
) -> str | None:
    """Fold the stream into ``turn``; the error of a streamed ``error`` event, if one ended it."""
    try:
        event = await stream.first()
    except asyncio.CancelledError:
        # Given up (a timeout, Ctrl+C) before the first event: first() still read it for a while
        # (it names the task to stop), and it belongs to the turn.
        if stream.late is not None:
            fold_event(turn, stream.late, started)
        raise
    if event is None:
        return None
    streamed = fold_event(turn, event, started)
    on_start()
    async for event in stream:
        streamed = fold_event(turn, event, started) or streamed
    return streamed


def _open(endpoint: Endpoint, case: Case, query: str | None, conversation_id: str | None) -> AsyncEventStream:
    app = endpoint.dify.app
    files = list(case.files) or None
    inputs = file_inputs(case.inputs, endpoint.file_inputs, case.file.parent)
    if endpoint.interface == "chat":
        return app.chat.invoke(
            endpoint.app_id, query or "", inputs, conversation_id=conversation_id, files=files
        )
    api = app.workflow if endpoint.interface == "workflow" else app.completion
    return api.invoke(endpoint.app_id, inputs, files=files)


def file_inputs(inputs: dict[str, Any], names: frozenset[str], folder: Path) -> dict[str, Any]:
    """``inputs`` with the file inputs' text (a path relative to the case file's ``folder``, or a
    URL; a list of them for a file-list) made into files the client uploads or links. A TOML
    file holds only text, and Dify refuses text where its form wants a file."""

    def file(text: str) -> Any:
        return to_file(text) if is_url(text) else folder / Path(text).expanduser()

    converted = dict(inputs)
    for name in names & inputs.keys():
        value = inputs[name]
        if isinstance(value, str) and value.strip():
            converted[name] = file(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            converted[name] = [file(v) for v in value]
    return converted


def _api_error(error: DifyAPIError) -> str:
    code = f" {error.code}" if error.code else ""
    return f"Dify error {error.status}{code}: {error.message}"


async def _give_up(endpoint: Endpoint, stream: AsyncEventStream, turn: TurnResult) -> None:
    """Close the stream and stop the run on the server (its task id, if Dify named it yet)."""
    task_id = turn.task_id or stream.task_id
    with contextlib.suppress(Exception):  # a stream that fails to close is still given up
        await stream.aclose()
    if task_id is None:
        return
    turn.task_id = task_id
    try:
        await asyncio.wait_for(endpoint.dify.app.stop(endpoint.app_id, task_id), STOP_TIMEOUT)
        turn.status = "stopped"
    except (DifyError, asyncio.TimeoutError):
        pass


def _stopped(turn: TurnResult) -> str:
    if turn.status == "stopped" and turn.task_id:
        return f"; stopped task {turn.task_id} on the server"
    return ""
