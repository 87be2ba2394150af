"""``type = "judge"``: an app of the same workspace grades the answer.

The grader runs through the same client as the case (blocking mode). A chat grader gets the
``query`` (default: the rubric, a blank line, then the answer); a completion or workflow grader
gets ``inputs``, whose string values may hold ``{answer}``, ``{query}``, ``{rubric}`` and
``{outputs}``. The assertion passes when ``pass`` (a case-insensitive regex) is found in the
grader's answer, or in its output ``path``; the reason shown is what the grader said.

A grader gets the case's ``timeout`` (per turn) too: past it, or when the suite is cancelled
(Ctrl+C), its run is stopped on the server and the assertion fails saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from difytui.errors import DifyError
from difytui.fold import Folder
from difytui.models import INTERFACE_BY_MODE

from .assertions import Judge, clip, compact_json, is_workflow, pick_turn
from .case_targets import grader_needs_inputs
from .model import DEFAULT_JUDGE_PASS, Assertion, AssertionResult, Case, RunResult
from .paths import MISSING, select
from .run_turn import STOP_TIMEOUT

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify

__all__ = ["make_judge", "placeholders"]

#: Modes whose blocking runs Dify refuses (agents): their stream is read instead.
_STREAM_ONLY = frozenset({"agent-chat", "agent"})

#: The grader's reply shown as the reason is cut here (it is one line of a report).
REASON_LIMIT = 200


def make_judge(dify: AsyncDify) -> Judge:
    """A :data:`~difytui.bench.assertions.Judge` that invokes graders through ``dify``
    (the client of the case's workspace)."""

    async def judge(assertion: Assertion, case: Case, run: RunResult) -> AssertionResult:
        turn, missing = pick_turn(assertion, run)
        if turn is None:
            return AssertionResult(assertion, False, f"nothing to judge: {missing}")
        answer = compact_json(turn.outputs) if is_workflow(turn) else turn.answer
        values = {
            "answer": answer,
            "query": turn.query or "",
            "rubric": str(assertion.value),
            "outputs": compact_json(turn.outputs) if turn.outputs is not None else "",
        }
        grader = str(assertion.app)
        clock = dify.clock  # the client's: a test moves it once the grader's run got where it wants
        try:
            said = await clock.within(_ask(dify, assertion, grader, values), clock.now() + case.timeout_s)
        except asyncio.TimeoutError:
            return AssertionResult(
                assertion, False, f"the judge {grader!r} did not answer within {case.timeout_s:g} s"
            )
        except _NeedsInputs as exc:
            return AssertionResult(assertion, False, f"{assertion.where}: {exc}")
        except DifyError as exc:
            return AssertionResult(assertion, False, f"the judge {grader!r} could not grade: {exc}")
        pattern = assertion.pass_pattern or DEFAULT_JUDGE_PASS
        passed = re.search(pattern, said, re.IGNORECASE) is not None
        return AssertionResult(assertion, passed, _reason(said))

    return judge


class _NeedsInputs(Exception):
    pass


async def _ask(dify: AsyncDify, assertion: Assertion, grader: str, values: Mapping[str, str]) -> str:
    """Run the grader and return the text ``pass`` is searched in."""
    app_id = await dify.app.resolve(grader)
    info = await dify.app.info(app_id)
    mode = str(info.get("mode", ""))
    interface = INTERFACE_BY_MODE.get(mode, "chat")
    inputs = placeholders(assertion.inputs or {}, values)
    if interface != "chat" and assertion.inputs is None:
        raise _NeedsInputs(grader_needs_inputs(assertion, interface))
    if interface == "chat":
        default = f"{values['rubric']}\n\n{values['answer']}"
        query = placeholders({"q": assertion.query}, values)["q"] if assertion.query else default
        if mode in _STREAM_ONLY:
            reply = await _folded(dify, app_id, query, inputs, mode)
        else:
            reply = await dify.app.chat.invoke(app_id, query, inputs, response_mode="blocking")
    elif interface == "completion":
        reply = await dify.app.completion.invoke(app_id, inputs, response_mode="blocking")
    else:
        reply = await dify.app.workflow.invoke(app_id, inputs, response_mode="blocking")
    return _said(reply, interface, assertion.path)


async def _folded(
    dify: AsyncDify, app_id: str, query: str, inputs: dict[str, Any], mode: str
) -> dict[str, Any]:
    """An agent grader's reply: Dify refuses blocking agent runs, so its stream is folded here."""
    folder = Folder(mode)
    stream = dify.app.chat.invoke(app_id, query, inputs)
    try:
        first = await stream.first()  # given up before it, still read: it names the task to stop
        if first is not None:
            folder.add(first)
        async for event in stream:
            folder.add(event)
    except BaseException:
        # Given up (its timeout, Ctrl+C): the library's blocking calls stop their run; do it here too.
        await stream.aclose()
        if stream.task_id is not None:
            with contextlib.suppress(DifyError, asyncio.TimeoutError):
                await asyncio.wait_for(dify.app.stop(app_id, stream.task_id), STOP_TIMEOUT)
        raise
    return folder.result()


def placeholders(inputs: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """``inputs`` with ``{answer}``, ``{query}``, ``{rubric}`` and ``{outputs}`` filled in string values
    (plain replacement: other braces, as in JSON, stay as written)."""
    # One pass: an answer that itself holds "{rubric}" is sent as it is, not filled in again.
    pattern = re.compile("|".join(re.escape("{" + name + "}") for name in values))

    def fill(value: Any) -> Any:
        return pattern.sub(lambda m: values[m.group(0)[1:-1]], value) if isinstance(value, str) else value

    return {key: fill(value) for key, value in inputs.items()}


def _said(reply: Mapping[str, Any], interface: str, path: str | None) -> str:
    """The grader's verdict text: its answer, its single output, or the value at ``path``."""
    if interface == "workflow":
        data = reply.get("data") or {}
        if data.get("status") not in (None, "succeeded"):
            raise DifyError(f"its run {data.get('status')}: {data.get('error') or 'no error given'}")
        document: Any = data.get("outputs") or {}
        if path is None:
            strings = (
                [v for v in document.values() if isinstance(v, str)] if isinstance(document, dict) else []
            )
            return strings[0] if len(document) == 1 and strings else compact_json(document)
    else:
        answer = str(reply.get("answer") or "")
        if path is None:
            return answer
        try:
            document = json.loads(answer)
        except ValueError:
            raise DifyError(f"its answer is not JSON, so it has no {path!r}: {clip(answer)}") from None
    value, missing = select(document, path)
    if value is MISSING:
        raise DifyError(f"its output {path}: {missing}")
    return value if isinstance(value, str) else compact_json(value)


def _reason(said: str) -> str:
    # One line of plain text: a report or a terminal shows it as it is.
    flat = "".join(ch for ch in " ".join(said.split()) if ch.isprintable())
    if len(flat) > REASON_LIMIT:
        flat = flat[: REASON_LIMIT - 1] + "…"
    return flat or "the judge gave an empty answer"
