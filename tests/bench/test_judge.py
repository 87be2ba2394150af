"""The judge assertion: a grader app of the simulator's demo workspace grades answers over loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from difytui.bench.assertions import grade
from difytui.bench.judge import make_judge, placeholders
from difytui.bench.model import Assertion, AssertionResult, Case, RunResult, TurnResult, Where
from difytui.client import AsyncDify
from difytui.deadline import SYSTEM_CLOCK, Clock
from difytui.sim import Simulator
from tests.bench.bench_helpers import held_run
from tests.faults.clock import ManualClock

HERE = Where(Path("cases/bot.toml"), 7)


def judge_assertion(app: str, **fields: Any) -> Assertion:
    fields.setdefault("value", "Is it polite?")
    return Assertion(type="judge", where=HERE, app=app, **fields)


def chat_run(*turns: tuple[str, str]) -> RunResult:
    return RunResult(turns=[TurnResult(query=q, answer=a, status="succeeded") for q, a in turns])


def case(*assertions: Assertion, **fields: Any) -> Case:
    return Case(
        name="c",
        file=Path("/x/bot.toml"),
        rel="bot.toml",
        where=HERE,
        app="bot",
        assertions=assertions,
        **fields,
    )


def judged(
    sim: Simulator, assertion: Assertion, run: RunResult, clock: Clock = SYSTEM_CLOCK, **case_fields: Any
) -> AssertionResult:
    async def go() -> list[AssertionResult]:
        async with AsyncDify(sim.base_url, sim.apps_config(), "tester", clock=clock) as dify:
            return await grade(case(assertion, **case_fields), run, make_judge(dify))

    (result,) = asyncio.run(go())
    return result


def sent(sim: Simulator, path: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path == path]


def test_a_chat_grader_gets_the_rubric_a_blank_line_and_the_answer(sim):
    run = chat_run(("Say hi", "Hello, dear customer!"))
    assertion = judge_assertion(
        "support-bot", inputs={"product": "difytui"}, pass_pattern=r"^## re: is it polite"
    )
    result = judged(sim, assertion, run)
    (body,) = sent(sim, "/v1/chat-messages")
    assert body["query"] == "Is it polite?\n\nHello, dear customer!"
    assert body["inputs"] == {"product": "difytui"}
    assert result.passed  # `pass` is searched ignoring case
    # The reason is the grader's answer, on one line.
    assert result.reason.startswith(
        "## Re: Is it polite? Hello, dear customer! Hi there! Here is what I found"
    )
    assert "\n" not in result.reason and len(result.reason) <= 200


def test_the_default_pass_pattern_wants_pass_yes_or_true_first(sim):
    result = judged(sim, judge_assertion("support-bot", inputs={"product": "difytui"}), chat_run(("q", "a")))
    assert not result.passed
    assert result.reason.startswith("## Re: Is it polite?")


def test_a_chat_graders_query_and_inputs_take_placeholders_for_the_turn_judged(sim):
    run = chat_run(("Bonjour", "Salut !"), ("And tomorrow?", "Demain il pleut."))
    assertion = judge_assertion(
        "support-bot",
        query='PASS if {answer} answers {query} ({rubric}) {unknown} {"json": 1}',
        inputs={"product": "difytui", "customer_name": "{query}", "n": 3},
        pass_pattern="Re: PASS if Salut",
        turn=1,
    )
    result = judged(sim, assertion, run)
    (body,) = sent(sim, "/v1/chat-messages")
    assert body["query"] == 'PASS if Salut ! answers Bonjour (Is it polite?) {unknown} {"json": 1}'
    assert body["inputs"] == {"product": "difytui", "customer_name": "Bonjour", "n": 3}
    assert result.passed, result.reason


def test_a_completion_grader_gets_its_inputs(sim):
    run = chat_run(("q", "PASS: a polite answer"))
    assertion = judge_assertion(
        "copywriter", inputs={"product_name": "{answer}", "brief": "{rubric}"}, pass_pattern=r"^##\s*PASS"
    )
    result = judged(sim, assertion, run)
    (body,) = sent(sim, "/v1/completion-messages")
    assert body["inputs"] == {"product_name": "PASS: a polite answer", "brief": "Is it polite?"}
    assert result.passed
    assert result.reason.startswith("## PASS: a polite answer *Tone: friendly*")


def test_a_completion_or_workflow_grader_without_inputs_fails_naming_the_case_file_line(sim):
    for grader in ("copywriter", "report-builder"):
        result = judged(sim, judge_assertion(grader), chat_run(("q", "a")))
        interface = "completion" if grader == "copywriter" else "workflow"
        assert not result.passed
        assert result.reason.startswith(f"cases/bot.toml:7: judge app {grader!r} is a {interface} app: give")
    assert not sent(sim, "/v1/completion-messages") and not sent(sim, "/v1/workflows/run")


def test_a_workflow_grader_is_read_at_its_output_path(sim):
    inputs = {"topic": "{answer}", "audience": "everyone"}
    passing = judged(
        sim, judge_assertion("report-builder", inputs=inputs, path="summary.topic"), chat_run(("q", "PASS"))
    )
    assert (passing.passed, passing.reason) == (True, "PASS")
    failing = judged(
        sim,
        judge_assertion("report-builder", inputs=inputs, path="summary.topic"),
        chat_run(("q", "FAIL: rude")),
    )
    assert (failing.passed, failing.reason) == (False, "FAIL: rude")
    missing = judged(
        sim, judge_assertion("report-builder", inputs=inputs, path="summary.nope"), chat_run(("q", "x"))
    )
    assert not missing.passed
    assert missing.reason.startswith(
        "the judge 'report-builder' could not grade: its output summary.nope: no key 'nope'"
    )


def test_a_workflow_case_is_judged_on_its_outputs(sim):
    run = RunResult(turns=[TurnResult(outputs={"verdict": "YES"}, status="succeeded")])
    assertion = judge_assertion(
        "report-builder",
        inputs={"topic": "{outputs}", "audience": "everyone", "notes": "{answer}"},
        path="summary.topic",
    )
    result = judged(sim, assertion, run)
    (body,) = sent(sim, "/v1/workflows/run")
    assert body["inputs"]["topic"] == '{"verdict":"YES"}' == body["inputs"]["notes"]
    assert not result.passed and result.reason == '{"verdict":"YES"}'


def test_a_grader_that_errors_fails_the_assertion_with_dify_s_message(sim):
    result = judged(sim, judge_assertion("support-bot"), chat_run(("q", "a")))  # support-bot needs `product`
    assert not result.passed
    assert result.reason == (
        "the judge 'support-bot' could not grade: "
        "Dify error 400 invalid_param: product is required in input form"
    )
    unknown = judged(sim, judge_assertion("no-such-grader"), chat_run(("q", "a")))
    assert not unknown.passed
    assert unknown.reason.startswith(
        "the judge 'no-such-grader' could not grade: app 'no-such-grader' is not in"
    )


def test_a_grader_may_be_named_by_its_app_name(sim):
    result = judged(
        sim,
        judge_assertion("Support Bot", inputs={"product": "difytui"}, pass_pattern="polite"),
        chat_run(("q", "a")),
    )
    assert result.passed, result.reason


def test_an_agent_grader_is_read_from_its_stream(sim):
    # Dify refuses blocking runs of agent apps; the judge reads the agent's stream instead.
    result = judged(sim, judge_assertion("travel-agent", pass_pattern="."), chat_run(("q", "a")))
    assert result.passed, result.reason
    (body,) = sent(sim, "/v1/chat-messages")
    assert body["response_mode"] == "streaming"


def test_the_demo_grader_passes_and_fails_with_the_default_pass_pattern(sim):
    rubric = 'Does it greet "bonjour" and name "Ana"?'
    good = judged(sim, judge_assertion("grader", value=rubric), chat_run(("Salut", "Bonjour Ana !")))
    assert (good.passed, good.reason) == (True, 'PASS: the answer mentions "bonjour", "Ana".')
    bad = judged(sim, judge_assertion("grader", value=rubric), chat_run(("Salut", "Hello there")))
    assert (bad.passed, bad.reason) == (False, 'FAIL: the answer does not mention "bonjour", "Ana".')
    # Its inputs take the placeholders: the rubric and the answer given as inputs instead.
    inputs = {"rubric": "{rubric}", "answer": "{query} {answer}"}
    both = judged(
        sim,
        judge_assertion("grader", value=rubric, inputs=inputs, query="grade"),
        chat_run(("Ana", "bonjour")),
    )
    assert both.passed, both.reason


def test_a_grader_past_the_case_timeout_fails_and_its_run_is_stopped(sim):
    # support-bot is folded by the library; an agent's stream is read by the judge itself.
    for grader, inputs in (("support-bot", {"product": "difytui"}), ("travel-agent", {})):
        sim.add_fault("/v1/chat-messages", "hold", after=1)
        # The timeout is read on the client's clock, which passes it once the grader's run is on
        # the server: on the real clock a loaded machine may pass it before the run even started.
        clock = ManualClock()
        mover = clock.advance_when(held_run(sim), 1.0)
        assertion = judge_assertion(grader, inputs=inputs)
        result = judged(sim, assertion, chat_run(("q", "a")), clock=clock, timeout_s=0.5)
        assert mover.moved()
        assert not result.passed
        assert result.reason == f"the judge {grader!r} did not answer within 0.5 s"
    assert len(sim.stopped_tasks) == 2


async def test_a_grader_given_up_before_its_first_event_is_still_stopped(sim):
    # The grader's run is held before its first event, the only one that names its task, until the
    # judge is given up (as its timeout or Ctrl+C does); then that event comes, read late, and the
    # judge stops the run. One at a time, so each stop is the run just held.
    for grader, inputs in (("support-bot", {"product": "difytui"}), ("travel-agent", {})):
        sim.add_fault("/v1/chat-messages", "hold", after=0)
        async with AsyncDify(sim.base_url, sim.apps_config(), "tester") as dify:
            judge = make_judge(dify)
            judging = asyncio.ensure_future(
                judge(judge_assertion(grader, inputs=inputs), case(), chat_run(("q", "a")))
            )
            held = await asyncio.to_thread(held_run(sim))
            assert held
            judging.cancel()
            sim.release_holds(1)  # the first event goes out only now, then the run is held again
            with pytest.raises(asyncio.CancelledError):
                await judging
    assert len(sim.stopped_tasks) == 2


def test_placeholders_are_filled_once():
    values = {"answer": "use {rubric} here", "query": "q", "rubric": "R", "outputs": ""}
    filled = placeholders({"a": "{answer}|{rubric}|{nope}", "n": 1, "l": ["{answer}"]}, values)
    assert filled == {"a": "use {rubric} here|R|{nope}", "n": 1, "l": ["{answer}"]}
