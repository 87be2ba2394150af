"""The simulator's history endpoints answer as real Dify 1.14.2 did in the captures (issue 11).

Shapes are compared with the captured bodies in ``shared/captures/human-input-history`` (facts 31–40):
the same keys, the same error codes and messages. Timestamps come from the simulator's clock, which
the tests set, so "several messages in one second" does not depend on the machine's speed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from difytui.sim import Simulator

CAPTURES = Path("/work/shared/captures/human-input-history")
CHAT = "support-bot"  # a chat app
WORKFLOW = "report-builder"
REPORT = {"topic": "SSE", "audience": "engineers", "sections": 3}
USER = "hist-user"


def captured(name: str) -> tuple[int, Any]:
    """Status and JSON body of a capture (``B10`` → ``B10_conversations_default.http``)."""
    (path,) = CAPTURES.glob(name + "_*.http")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("###")]
    status = int(lines[0].split()[1])
    body = lines[lines.index("") + 1 :] if "" in lines else []
    return status, json.loads("\n".join(body)) if body and body[0] else None


pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="the captures are not on this machine")


class Clock:
    """The simulator's clock: whole seconds, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_795_996_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def sim():
    with Simulator(token_delay=0.0) as s:
        s.state.clock = Clock()
        yield s


def client(sim: Simulator, app_id: str = CHAT) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sim.api_keys[app_id]}"}
    return httpx.Client(base_url=sim.base_url, headers=headers, timeout=10)


def chat(c: httpx.Client, query: str, conversation_id: str = "") -> dict:
    body = {"inputs": {"product": "difytui"}, "query": query, "user": USER, "response_mode": "blocking"}
    if conversation_id:
        body["conversation_id"] = conversation_id
    r = c.post("/chat-messages", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def keys_like(ours: dict, capture: dict) -> None:
    assert set(ours) == set(capture)


def test_conversations_page_by_last_id_newest_first_with_dify_errors(sim):
    clock = sim.state.clock
    with client(sim) as c:
        ids = []
        for n in range(3):
            clock.now += 2
            ids.append(chat(c, f"q{n}")["conversation_id"])
        r = c.get("/conversations", params={"user": USER, "limit": 1})
        _, b11 = captured("B11")
        keys_like(r.json(), b11)
        keys_like(r.json()["data"][0], b11["data"][0])
        assert r.json()["has_more"] is True and r.json()["data"][0]["id"] == ids[-1]
        seen, last = [], ""
        while True:
            page = c.get("/conversations", params={"user": USER, "limit": 2, "last_id": last}).json()
            seen += [conv["id"] for conv in page["data"]]
            if not page["has_more"]:
                break
            last = page["data"][-1]["id"]
        assert seen == ids[::-1]
        oldest = c.get("/conversations", params={"user": USER, "sort_by": "created_at"}).json()
        assert [conv["id"] for conv in oldest["data"]] == ids

        for params, capture in (
            ({"sort_by": "name"}, "B16"),
            ({"limit": 101}, "B18"),
            ({"last_id": ids[0][::-1]}, "B17"),
        ):
            r = c.get("/conversations", params={"user": USER, **params})
            status, body = captured(capture)
            assert (r.status_code, r.json()["code"]) == (status, body["code"])
            if capture != "B17":
                assert r.json()["message"] == body["message"]
        assert c.get("/conversations", params={"user": "nobody"}).json()["data"] == []


def test_messages_page_backwards_and_lose_the_rest_of_a_second_like_dify(sim):
    """P05/P06: three messages in one second, limit 1 → has_more, yet the first_id page is empty."""
    with client(sim) as c:
        cid = chat(c, "t1")["conversation_id"]
        chat(c, "t2", cid)
        chat(c, "t3", cid)
        r = c.get("/messages", params={"user": USER, "conversation_id": cid, "limit": 1}).json()
        _, p05 = captured("P05")
        keys_like(r, p05)
        keys_like(r["data"][0], p05["data"][0])
        assert r["has_more"] is True
        nxt = c.get(
            "/messages",
            params={"user": USER, "conversation_id": cid, "limit": 1, "first_id": r["data"][0]["id"]},
        ).json()
        assert nxt == captured("P06")[1]


def test_messages_in_distinct_seconds_page_without_loss(sim):
    clock = sim.state.clock
    with client(sim) as c:
        cid = chat(c, "t0")["conversation_id"]
        for n in range(1, 5):
            clock.now += 1
            chat(c, f"t{n}", cid)
        first = c.get("/messages", params={"user": USER, "conversation_id": cid, "limit": 2}).json()
        assert [m["query"] for m in first["data"]] == ["t3", "t4"] and first["has_more"]
        older = c.get(
            "/messages",
            params={"user": USER, "conversation_id": cid, "limit": 2, "first_id": first["data"][0]["id"]},
        ).json()
        assert [m["query"] for m in older["data"]] == ["t1", "t2"] and older["has_more"]
        assert (
            c.get("/messages", params={"user": USER, "conversation_id": cid, "first_id": cid}).status_code
            == 404
        )


def test_rename_auto_generate_keeps_the_name_and_delete_is_204_then_404(sim):
    with client(sim) as c:
        cid = chat(c, "hello there")["conversation_id"]
        r = c.post(f"/conversations/{cid}/name", json={"name": "Renamed", "user": USER})
        keys_like(r.json(), captured("B30")[1])
        assert r.json()["name"] == "Renamed"
        r = c.post(f"/conversations/{cid}/name", json={"auto_generate": True, "user": USER})
        assert (r.status_code, r.json()["name"]) == (200, "Renamed")
        r = c.post(f"/conversations/{cid}/name", json={"user": USER})
        assert r.status_code == 400 and "name is required when auto_generate is false" in r.json()["message"]

        r = c.request("DELETE", f"/conversations/{cid}", json={"user": USER})
        assert (r.status_code, r.content) == (204, b"")
        again = c.request("DELETE", f"/conversations/{cid}", json={"user": USER})
        assert (again.status_code, again.json()["message"]) == (404, captured("B36")[1]["message"])
        msgs = c.get("/messages", params={"user": USER, "conversation_id": cid})
        assert (msgs.status_code, msgs.json()["message"]) == (404, captured("B37")[1]["message"])


def test_feedback_set_change_clear_and_app_feedbacks(sim):
    with client(sim) as c:
        mid = chat(c, "rate me")["message_id"]
        other = chat(c, "and me")["message_id"]
        url = f"/messages/{mid}/feedbacks"
        assert (
            c.post(url, json={"rating": "like", "content": "nice", "user": USER}).json() == captured("B70")[1]
        )
        c.post(f"/messages/{other}/feedbacks", json={"rating": "dislike", "user": USER})
        listed = c.get("/app/feedbacks").json()
        _, b72 = captured("B72")
        keys_like(listed, b72)
        keys_like(listed["data"][0], b72["data"][0])
        assert [(f["message_id"], f["rating"]) for f in listed["data"]] == [(other, "dislike"), (mid, "like")]
        assert listed["data"][1]["content"] == "nice"

        c.post(url, json={"rating": "dislike", "user": USER})  # overwrite: the content becomes null
        page2 = c.get("/app/feedbacks", params={"page": 2, "limit": 1}).json()["data"]
        assert [(f["rating"], f["content"]) for f in page2] == [("dislike", None)]
        cid = chat(c, "x")["conversation_id"]
        assert (
            c.get("/messages", params={"user": USER, "conversation_id": cid}).json()["data"][0]["feedback"]
            is None
        )

        assert c.post(url, json={"rating": None, "user": USER}).status_code == 200
        again = c.post(url, json={"rating": None, "user": USER})
        assert again.json()["message"] == captured("B76")[1]["message"]
        bad = c.post(url, json={"rating": "love", "user": USER})
        assert (bad.status_code, bad.json()["message"]) == (400, captured("B77")[1]["message"])
        assert c.post(url, json={"rating": "like", "user": "someone-else"}).status_code == 404


def test_suggested_off_no_model_and_on(sim):
    with client(sim) as c:
        mid = chat(c, "hi")["message_id"]
        off = c.get(f"/messages/{mid}/suggested", params={"user": USER})
        assert (off.status_code, off.json()) == captured("B82")
        sim.enable_suggested(CHAT, None)
        assert c.get("/parameters").json()["suggested_questions_after_answer"] == {"enabled": True}
        broken = c.get(f"/messages/{mid}/suggested", params={"user": USER})
        assert (broken.status_code, broken.json()["code"]) == (500, captured("B89")[1]["code"])
        sim.enable_suggested(CHAT, ["Why?", "How?"])
        on = c.get(f"/messages/{mid}/suggested", params={"user": USER})
        assert on.json() == {"result": "success", "data": ["Why?", "How?"]}
        assert c.get(f"/messages/{mid}/suggested").status_code == 400  # user required (B84)


def test_workflow_logs_page_by_number_and_run_detail_inputs_are_a_json_string(sim):
    with client(sim, WORKFLOW) as c:
        runs = []
        for n in range(3):
            r = c.post(
                "/workflows/run",
                json={"inputs": {**REPORT, "topic": f"Log{n}"}, "user": USER, "response_mode": "blocking"},
            )
            runs.append(r.json()["workflow_run_id"])
        page1 = c.get("/workflows/logs", params={"limit": 2}).json()
        _, ba0 = captured("BA0")
        keys_like(page1, ba0)
        keys_like(page1["data"][0], ba0["data"][0])
        keys_like(page1["data"][0]["workflow_run"], ba0["data"][0]["workflow_run"])
        assert (page1["total"], page1["has_more"]) == (3, True)
        page2 = c.get("/workflows/logs", params={"limit": 2, "page": 2}).json()
        assert [e["workflow_run"]["id"] for e in page1["data"] + page2["data"]] == runs[::-1]
        assert page2["has_more"] is False
        found = c.get("/workflows/logs", params={"keyword": "Log1"}).json()["data"]
        assert [e["workflow_run"]["id"] for e in found] == [runs[1]]
        bad = c.get("/workflows/logs", params={"status": "running"})
        assert (bad.status_code, bad.json()["message"]) == (400, captured("BA6")[1]["message"])

        detail = c.get(f"/workflows/run/{runs[0]}").json()
        keys_like(detail, captured("BA8")[1])
        assert isinstance(detail["inputs"], str) and json.loads(detail["inputs"])["topic"] == "Log0"
        missing = c.get(f"/workflows/run/{USER}")
        assert (missing.status_code, missing.json()["message"]) == (404, captured("BA9")[1]["message"])
