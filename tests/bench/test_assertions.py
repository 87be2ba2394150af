"""grade(): every assertion type passing and failing, with the reason a person reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from difytui.bench.assertions import grade
from difytui.bench.model import Assertion, AssertionResult, Case, NodeRun, RunResult, TurnResult, Where

HERE = Where(Path("cases/bot.toml"), 7)
HELLO = "Hello, and welcome to difytui! How can I help you today?"  # longer than a reason's clip


def A(type: str, **fields: Any) -> Assertion:
    negate = type.startswith("not-")
    return Assertion(type=type[4:] if negate else type, where=HERE, negate=negate, **fields)


def chat(*answers: str, **fields: Any) -> RunResult:
    turns = [TurnResult(query=f"q{n}", answer=a, status="succeeded") for n, a in enumerate(answers, 1)]
    for name, value in fields.items():
        setattr(turns[-1], name, value)
    return RunResult(turns=turns)


def workflow(outputs: dict[str, Any], **fields: Any) -> RunResult:
    turn = TurnResult(outputs=outputs, status="succeeded")
    for name, value in fields.items():
        setattr(turn, name, value)
    return RunResult(turns=[turn])


def one(assertion: Assertion, run: RunResult) -> AssertionResult:
    case = Case(
        name="c", file=Path("/x/bot.toml"), rel="bot.toml", where=HERE, app="bot", assertions=(assertion,)
    )
    (result,) = asyncio.run(grade(case, run))
    return result


def check(assertion: Assertion, run: RunResult, passed: bool, reason: str) -> None:
    result = one(assertion, run)
    assert (result.passed, result.reason) == (passed, reason)
    assert result.assertion is assertion


TEXT_CASES = [
    # (assertion, answer, passed, reason)
    (A("contains", value="welcome"), HELLO, True, "answer contains 'welcome'"),
    (
        A("contains", value="bonjour"),
        HELLO,
        False,
        "expected to contain 'bonjour'; answer starts 'Hello, and welcome to difytui! How can …'",
    ),
    (A("contains", value="Welcome"), "hi", False, "expected to contain 'Welcome'; answer is 'hi'"),
    (A("contains", value="x"), "", False, "expected to contain 'x'; answer is empty"),
    (A("not-contains", value="bonjour"), HELLO, True, "answer does not contain 'bonjour'"),
    (
        A("not-contains", value="difytui"),
        HELLO,
        False,
        "expected not to contain 'difytui'; answer has it: 'and welcome to difytui! How can I hel'",
    ),
    (A("icontains", value="WELCOME"), HELLO, True, "answer contains (any case) 'WELCOME'"),
    (
        A("icontains", value="bonjour"),
        HELLO,
        False,
        "expected to contain (any case) 'bonjour'; answer starts 'Hello, and welcome to difytui! How can …'",
    ),
    (
        A("not-icontains", value="HELLO"),
        "oh, hello",
        False,
        "expected not to contain (any case) 'HELLO'; answer has it: 'oh, hello'",
    ),
    (
        A("contains-any", value=("bonjour", "welcome")),
        HELLO,
        True,
        "answer contains one of 'bonjour', 'welcome'",
    ),
    (
        A("contains-any", value=("bonjour", "salut")),
        "hi",
        False,
        "expected to contain one of 'bonjour', 'salut'; answer is 'hi'",
    ),
    (
        A("not-contains-any", value=("bonjour", "Hello")),
        HELLO,
        False,
        "expected not to contain one of 'bonjour', 'Hello'; answer contains 'Hello'",
    ),
    (A("contains-all", value=("Hello", "welcome")), HELLO, True, "answer contains all of 'Hello', 'welcome'"),
    (
        A("contains-all", value=("Hello", "bonjour", "salut")),
        HELLO,
        False,
        "expected to contain all of 'Hello', 'bonjour', 'salut'; answer lacks 'bonjour', 'salut'",
    ),
    (A("starts-with", value="Hello"), HELLO, True, "answer starts with 'Hello'"),
    (A("starts-with", value="Bonjour"), "hi", False, "expected to start with 'Bonjour'; answer is 'hi'"),
    (
        A("not-starts-with", value="Hello"),
        HELLO,
        False,
        "expected not to start with 'Hello'; answer starts 'Hello, and welcome to difytui! How can …'",
    ),
    (A("regex", value=r"dify\w+"), HELLO, True, "answer matches /dify\\w+/ at 'difytui'"),
    (
        A("regex", value=r"^welcome"),
        HELLO,
        False,
        "expected to match /^welcome/; answer starts 'Hello, and welcome to difytui! How can …'",
    ),
    (
        A("regex", value=r"hello"),
        HELLO,
        False,
        "expected to match /hello/; answer starts 'Hello, and welcome to difytui! How can …'",
    ),  # case-sensitive
    (
        A("not-regex", value=r"(?i)error \d+"),
        "Error 500 on the server",
        False,
        "expected not to match /(?i)error \\d+/; answer has 'Error 500'",
    ),
    (A("not-regex", value=r"error"), HELLO, True, "answer does not match /error/"),
    (A("is-json"), '{"a": [1, 2]}', True, "answer is JSON"),
    (A("is-json"), "Sure! {a: 1}", False, "expected JSON; answer is not (Expecting value): 'Sure! {a: 1}'"),
    (A("not-is-json"), "plain text", True, "answer is not JSON"),
    (A("not-is-json"), "[1]", False, "expected not JSON; answer is JSON"),
    (
        A("similar", value="Hello and welcome to difytui! How may I help you today?"),
        HELLO,
        True,
        "similarity 0.95 ≥ 0.8",
    ),
    (
        A("similar", value="Goodbye"),
        HELLO,
        False,
        "similarity 0.13 < 0.8; answer starts 'Hello, and welcome to difytui! How can …'",
    ),
    (A("similar", value="Goodbye", threshold=0.1), HELLO, True, "similarity 0.13 ≥ 0.1"),
    (A("not-similar", value="Goodbye"), HELLO, True, "similarity 0.13 < 0.8"),
    (A("equals", value="hi"), "hi", True, "answer equals 'hi'"),
    (A("equals", value="hi"), "hi\n", False, "expected 'hi'; answer is 'hi'"),
    (A("equals", value="Hi"), "hi", False, "expected 'Hi'; answer is 'hi'"),
    (A("not-equals", value="hi"), "hi", False, "expected not to equal 'hi'; answer does"),
    (A("equals", value=3), "3.0", True, "answer equals 3"),  # a number: the answer compared as JSON
    (A("equals", value=3), "three", False, "answer is not JSON, so it cannot equal 3; is 'three'"),
]


@pytest.mark.parametrize(
    ("assertion", "answer", "passed", "reason"), TEXT_CASES, ids=[str(i) for i in range(len(TEXT_CASES))]
)
def test_text_assertions_on_a_chat_answer(assertion, answer, passed, reason):
    check(assertion, chat(answer), passed, reason)


OUTPUTS = {"result": {"count": 3, "items": ["a", "b"], "ok": True, "label": "3"}, "text": "Bonjour"}

PATH_CASES = [
    (A("equals", path="result.count", value=3), True, "outputs result.count equals 3"),
    (A("equals", path="result.count", value=3.0), True, "outputs result.count equals 3.0"),
    (A("equals", path="result.count", value=4), False, "expected 4; outputs result.count is 3"),
    (
        A("equals", path="result.count", value="3"),
        False,
        "expected '3'; outputs result.count is 3 (a number, not text: write value without quotes)",
    ),
    (
        A("equals", path="result.label", value=3),
        False,
        "expected 3; outputs result.label is '3' (text: write value = \"3\" to compare text)",
    ),
    (A("equals", path="result.ok", value=1), False, "expected 1; outputs result.ok is true"),
    (A("equals", path="result.items", value=["a", "b"]), True, 'outputs result.items equals ["a","b"]'),
    (A("equals", path="result.items.1", value="b"), True, "outputs result.items.1 equals 'b'"),
    (A("not-equals", path="result.count", value=4), True, "outputs result.count does not equal 4"),
    (A("contains", path="text", value="jour"), True, "outputs text contains 'jour'"),
    (
        A("equals", path="result.missing", value=1),
        False,
        "outputs result.missing: no key 'missing' in result (keys: count, items, ok, label)",
    ),
    (
        A("equals", path="result.items.5", value=1),
        False,
        "outputs result.items.5: no item '5' in result.items (a list of 2)",
    ),
    (
        A("equals", path="text.deeper", value=1),
        False,
        "outputs text.deeper: text is not an object, so it has no 'deeper'",
    ),
    # Without path: the whole outputs object (equals a table) or its compact JSON text.
    (
        A("equals", value=OUTPUTS),
        True,
        "outputs equals " + '{"result":{"count":3,"items":["a","b"],"ok":true,"label":"3"},"text":"Bonjour"}',
    ),
    (
        A("equals", value={"text": "Bonjour"}),
        False,
        'expected {"text":"Bonjour"}; outputs is {"result":{"count":3,"items":["a","b"],…',
    ),
    (A("contains", value='"count":3'), True, "outputs contains '\"count\":3'"),
    (A("is-json"), True, "outputs is JSON"),
]


@pytest.mark.parametrize(
    ("assertion", "passed", "reason"), PATH_CASES, ids=[str(i) for i in range(len(PATH_CASES))]
)
def test_workflow_outputs_with_and_without_path(assertion, passed, reason):
    check(assertion, workflow(OUTPUTS), passed, reason)


def test_path_inside_a_chat_answer_parsed_as_json():
    check(
        A("equals", path="verdict", value="ok"), chat('{"verdict": "ok"}'), True, "answer verdict equals 'ok'"
    )
    check(
        A("equals", path="verdict", value="ok"),
        chat("The verdict is ok"),
        False,
        "the answer is not JSON, so it has no 'verdict'; it starts 'The verdict is ok'",
    )
    check(A("is-json", path="data"), chat('{"data": "{\\"a\\": 1}"}'), True, "answer data is JSON")


def test_turn_picks_the_turn_else_the_last():
    run = chat("Bonjour !", "Demain il pleut.")
    check(A("contains", value="pleut"), run, True, "answer contains 'pleut'")
    check(A("contains", value="Bonjour", turn=1), run, True, "turn 1 answer contains 'Bonjour'")
    check(
        A("contains", value="pleut", turn=1),
        run,
        False,
        "expected to contain 'pleut'; turn 1 answer is 'Bonjour !'",
    )
    check(A("contains", value="x", turn=3), run, False, "no turn 3: the run has 2")


def test_completion_answers_are_text_even_with_outputs_none():
    run = RunResult(turns=[TurnResult(query=None, answer="Copy ✨", status="succeeded")])
    check(A("contains", value="✨"), run, True, "answer contains '✨'")


def test_status():
    check(A("status", value="succeeded"), chat("hi"), True, "status succeeded")
    failed = RunResult(turns=[TurnResult(outputs={}, status="failed", error="Node LLM failed: quota")])
    check(A("status", value="failed"), failed, True, "status failed")
    check(
        A("status", value="succeeded"),
        failed,
        False,
        "expected status succeeded; the run failed: Node LLM failed: quota",
    )
    check(A("status", value="stopped"), chat("hi"), False, "expected status stopped; the run succeeded")
    check(
        A("status", value="succeeded"),
        RunResult(error="timed out after 5 s"),
        False,
        "expected status succeeded; the run produced no answer",
    )


def grade_case(run: RunResult, *assertions: Assertion) -> list[AssertionResult]:
    case = Case(
        name="c", file=Path("/x/bot.toml"), rel="bot.toml", where=HERE, app="bot", assertions=assertions
    )
    return asyncio.run(grade(case, run))


def test_a_run_that_did_not_succeed_fails_unless_the_case_asserts_status():
    failed = RunResult(turns=[TurnResult(outputs={"a": 1}, status="failed", error="Node LLM failed: quota")])
    first, contains = grade_case(failed, A("contains", value='"a":1'))
    assert (first.passed, first.reason) == (False, "run failed: Node LLM failed: quota")
    assert first.assertion.type == "status" and first.assertion.where == HERE
    assert contains.passed
    # Asserting status takes the rule over: a failure that is expected passes.
    assert [r.passed for r in grade_case(failed, A("status", value="failed"))] == [True]
    # A second turn that stopped: named.
    stopped = chat("a", "b")
    stopped.turns[1].status = "stopped"
    (first,) = grade_case(stopped)
    assert first.reason == "run failed (turn 2): status stopped"
    errored = RunResult(error="Dify error 500 internal_server_error: boom")
    (first,) = grade_case(errored)
    assert first.reason == "run failed: Dify error 500 internal_server_error: boom"
    assert grade_case(chat("fine")) == []  # a succeeded run with no assertions: nothing to report


def test_node():
    nodes = [NodeRun("Start", "succeeded"), NodeRun("LLM", "failed"), NodeRun("Answer", "succeeded")]
    run = workflow({}, nodes=nodes)
    check(A("node", value="Start"), run, True, "node 'Start' succeeded")
    check(A("node", value="LLM", status="failed"), run, True, "node 'LLM' failed")
    check(A("node", value="LLM"), run, False, "expected node 'LLM' to be succeeded; it was failed")
    check(A("node", value="Tool"), run, False, "no node titled 'Tool' ran (nodes: 'Start', 'LLM', 'Answer')")


def test_upper_bounds_and_missing_measurements():
    run = chat("hi", latency_s=1.234, first_token_s=0.25, tokens=120, cost=0.0042)
    check(A("latency", threshold=2), run, True, "latency 1.23 s ≤ 2 s")
    check(A("latency", threshold=1), run, False, "latency 1.23 s over the limit of 1 s")
    check(A("first-token", threshold=0.2), run, False, "first token 0.25 s over the limit of 0.2 s")
    check(A("first-token", threshold=0.5), run, True, "first token 0.25 s ≤ 0.5 s")
    check(A("tokens", threshold=100), run, False, "tokens 120 over the limit of 100")
    check(A("tokens", threshold=120), run, True, "tokens 120 ≤ 120")
    check(A("cost", threshold=0.01), run, True, "cost 0.0042 ≤ 0.01")
    check(A("cost", threshold=0.001), run, False, "cost 0.0042 over the limit of 0.001")
    bare = chat("hi")
    for kind, name in (
        ("latency", "latency"),
        ("first-token", "first token"),
        ("tokens", "tokens"),
        ("cost", "cost"),
    ):
        check(A(kind, threshold=1), bare, False, f"no {name} measured for this run")
    # Per turn: the assertion's turn, else the last.
    two = chat("a", "b", latency_s=9.0)
    two.turns[0].latency_s = 0.5
    check(A("latency", threshold=1, turn=1), two, True, "latency 0.50 s ≤ 1 s")
    check(A("latency", threshold=1), two, False, "latency 9.00 s over the limit of 1 s")


def test_judge_goes_to_the_judge_given_and_fails_without_one():
    rubric = A("judge", app="grader", value="polite?")
    seen: list[tuple[Assertion, Case, RunResult]] = []

    async def judge(assertion: Assertion, case: Case, run: RunResult) -> AssertionResult:
        seen.append((assertion, case, run))
        return AssertionResult(assertion, True, "PASS: polite")

    run = chat("hi")
    case = Case(name="c", file=Path("/x/b.toml"), rel="b.toml", where=HERE, app="bot", assertions=(rubric,))
    (result,) = asyncio.run(grade(case, run, judge))
    assert (result.passed, result.reason) == (True, "PASS: polite")
    assert seen == [(rubric, case, run)]
    (result,) = asyncio.run(grade(case, run))
    assert (result.passed, result.reason) == (False, "no judge available to grade this")
    # A run that errored is not sent to the grader.
    _, result = asyncio.run(grade(case, RunResult(error="timed out after 5 s"), judge))
    assert (result.passed, result.reason) == (False, "not judged: the run did not complete")
    assert len(seen) == 1


def test_reasons_are_one_line_without_control_characters():
    result = one(A("contains", value="zzz"), chat("line one\n\x1b[31mred\x1b[0m\tline two"))
    assert result.reason == "expected to contain 'zzz'; answer is 'line one [31mred[0m line two'"
