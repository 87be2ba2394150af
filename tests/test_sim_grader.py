"""The demo's grader app: the bench's judge answers PASS or FAIL by a fixed, documented rule."""

from __future__ import annotations

import json

import httpx
import pytest

from difytui.sim import DEMO_APPS, Simulator
from difytui.sim.content import grade


@pytest.fixture
def sim():
    with Simulator() as s:
        yield s


def _ask(sim: Simulator, query: str, inputs: dict | None = None, mode: str = "blocking") -> str:
    headers = {"Authorization": f"Bearer {sim.api_keys['grader']}"}
    payload = {"inputs": inputs or {}, "query": query, "user": "judge", "response_mode": mode}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=5) as c:
        if mode == "blocking":
            return c.post("/chat-messages", json=payload).json()["answer"]
        answer = ""
        with c.stream("POST", "/chat-messages", json=payload) as r:
            for line in r.iter_lines():
                event = json.loads(line[6:]) if line.startswith("data: ") else {}
                if event.get("event") == "message":
                    answer += event["answer"]
        return answer


def test_grader_is_a_visible_chat_app_of_the_demo():
    assert DEMO_APPS["grader"]["mode"] == "chat"
    variables = [
        next(iter(i.values()))["variable"] for i in DEMO_APPS["grader"]["parameters"]["user_input_form"]
    ]
    assert variables == ["rubric", "answer"]


@pytest.mark.parametrize("mode", ["blocking", "streaming"])
def test_pass_when_every_quoted_keyword_is_in_the_answer(sim, mode):
    query = 'Must greet "Bonjour" and name "difytui".\n\nbonjour! Welcome to DIFYTUI.'
    assert _ask(sim, query, mode=mode) == 'PASS: the answer mentions "Bonjour", "difytui".'


def test_fail_names_the_missing_keywords(sim):
    query = 'Mentions “Paris” and "Tokyo" and "Lima".\n\nFrom Paris to Tokyo.'
    assert _ask(sim, query) == 'FAIL: the answer does not mention "Lima".'


def test_fail_when_the_rubric_quotes_nothing(sim):
    assert _ask(sim, "Be polite.\n\nThank you!") == "FAIL: the rubric quotes no keyword to look for."


def test_inputs_take_the_place_of_the_query(sim):
    inputs = {"rubric": 'Says "merci".', "answer": "Merci et à bientôt"}
    assert _ask(sim, "grade it", inputs).startswith("PASS: ")
    assert _ask(sim, "grade it", {**inputs, "answer": "Thanks"}).startswith("FAIL: ")


def test_rubric_only_keywords_are_not_found_in_the_rubric_itself():
    # The rubric's own words are not the answer: with nothing after the blank line, nothing passes.
    assert grade('Says "hello".', {}) == 'FAIL: the answer does not mention "hello".'
