"""The re-attach logic on its own (difytui.reconnect, sans-io): what a replay repeats, when to give up."""

from __future__ import annotations

import pytest

from difytui.errors import DifyAPIError, DifyConnectionError, DifyError, DifyProtocolError
from difytui.reconnect import Reattachment, ReconnectPolicy

RUN = "run-1"


def wf(kind: str, **data: object) -> dict:
    return {"event": kind, "workflow_run_id": RUN, "task_id": "task-1", "data": data}


def message(text: str) -> dict:
    return {"event": "message", "conversation_id": "c", "message_id": "m", "answer": text}


def cut() -> DifyConnectionError:
    return DifyConnectionError(
        "the connection to http://x/v1/chat-messages was cut mid-stream", url="http://x"
    )


def delivered(reattachment: Reattachment, events: list[dict]) -> list[dict]:
    return [event for event in events if reattachment.admit(event)]


def started_chatflow() -> Reattachment:
    reattachment = Reattachment("advanced-chat", ReconnectPolicy(attempts=2, backoff=0.5))
    delivered(
        reattachment,
        [
            wf("workflow_started", id=RUN, reason="initial"),
            message("Hello "),
            wf("node_started", id="n-start", node_id="start"),
            wf("node_finished", id="n-start", node_id="start"),
            wf("node_started", id="n-llm", node_id="llm"),
            message("wor"),
        ],
    )
    return reattachment


def test_a_snapshot_replay_delivers_only_what_was_not_seen():
    reattachment = started_chatflow()
    assert reattachment.retry_delay(cut()) == 0.0  # the first try goes at once
    reattachment.attached()
    replay = [
        # Dify's replay: task_id is the run id, indexes differ; the stored answer is "" while running
        {**wf("workflow_started", id=RUN, reason="initial"), "task_id": RUN},
        {"event": "message_replace", "answer": "", "task_id": RUN},
        {**wf("node_started", id="n-start", node_id="start", index=1), "task_id": RUN},
        {**wf("node_finished", id="n-start", node_id="start"), "task_id": RUN},
        {**wf("node_started", id="n-llm", node_id="llm", index=2), "task_id": RUN},
        # the live tail
        message("ld"),
        wf("node_finished", id="n-llm", node_id="llm"),
        wf("workflow_finished", id=RUN, status="succeeded", outputs={"answer": "Hello world"}),
    ]
    kept = delivered(reattachment, replay)
    assert [event["event"] for event in kept] == ["message", "node_finished", "workflow_finished"]
    assert reattachment.count == 1
    assert reattachment.reconciled_answer is None  # nothing was lost: the text events say it all


def test_text_lost_while_detached_is_reconciled_from_the_outputs():
    reattachment = started_chatflow()
    reattachment.retry_delay(cut())
    reattachment.attached()
    finished = wf("workflow_finished", id=RUN, status="succeeded", outputs={"answer": "Hello world!"})
    assert delivered(reattachment, [message("!"), finished]) == [message("!"), finished]
    assert reattachment.reconciled_answer == "Hello world!"


def test_a_workflow_is_never_reconciled_and_unseen_nodes_of_the_gap_are_delivered():
    reattachment = Reattachment("workflow")
    delivered(reattachment, [wf("workflow_started", id=RUN), wf("node_started", id="a")])
    reattachment.retry_delay(cut())
    reattachment.attached()
    replay = [wf("workflow_started", id=RUN), wf("node_started", id="a"), wf("node_finished", id="a")]
    replay += [wf("node_started", id="b"), wf("workflow_finished", id=RUN, outputs={"answer": "x"})]
    kept = delivered(reattachment, replay)
    assert [(e["event"], e["data"]["id"]) for e in kept] == [
        ("node_finished", "a"),
        ("node_started", "b"),
        ("workflow_finished", RUN),
    ]
    assert reattachment.reconciled_answer is None


def test_a_stored_answer_longer_than_what_was_seen_is_delivered():
    reattachment = started_chatflow()
    reattachment.retry_delay(cut())
    reattachment.attached()
    restoring = {"event": "message_replace", "answer": "Hello world, and more", "task_id": RUN}
    assert delivered(reattachment, [restoring]) == [restoring]


def test_nothing_is_dropped_before_a_reattachment():
    reattachment = Reattachment("workflow")
    twice = [wf("node_started", id="a"), wf("node_started", id="a")]
    assert delivered(reattachment, twice) == twice


@pytest.mark.parametrize(
    ("mode", "events", "error"),
    [
        ("chat", [message("hi")], cut()),  # no events endpoint for chat, agent, completion
        ("completion", [message("hi")], cut()),
        ("workflow", [], cut()),  # Dify has not named the run yet
        ("workflow", [wf("workflow_started", id=RUN)], DifyProtocolError("malformed event")),
    ],
)
def test_what_is_not_reattached(mode, events, error):
    reattachment = Reattachment(mode)
    delivered(reattachment, events)
    assert reattachment.retry_delay(error) is None
    assert reattachment.gave_up(error) is error


def test_attempts_are_bounded_with_backoff_and_the_error_says_what_happened():
    reattachment = started_chatflow()
    drop = cut()
    assert reattachment.retry_delay(drop) == 0.0
    unavailable = DifyAPIError(503, "", "Service Unavailable")
    assert reattachment.retry_delay(unavailable) == 0.5
    refused = DifyConnectionError("cannot connect to http://x/v1/workflow/run-1/events")
    assert reattachment.retry_delay(refused) is None
    final = reattachment.gave_up(refused)
    assert isinstance(final, DifyConnectionError) and final.url == "http://x"
    assert str(final).startswith(str(drop))
    assert f"re-attaching to run {RUN} failed 2 times: cannot connect" in str(final)


def test_a_run_the_server_does_not_know_ends_the_attempts_at_once():
    reattachment = started_chatflow()
    reattachment.retry_delay(cut())
    gone = DifyAPIError(404, "not_found", "Workflow run not found")
    assert reattachment.retry_delay(gone) is None
    assert "failed 1 time: Dify error 404" in str(reattachment.gave_up(gone))


def test_a_reattached_stream_that_brings_news_earns_fresh_attempts():
    reattachment = started_chatflow()
    reattachment.retry_delay(cut())
    assert reattachment.retry_delay(cut()) == 0.5  # the first re-attached stream dropped at once
    reattachment.attached()
    assert reattachment.admit(message("ld"))  # progress
    assert reattachment.retry_delay(cut()) == 0.0  # a new drop: the count starts again
    reattachment.attached()
    assert not reattachment.admit(wf("node_started", id="n-llm"))  # only replay: no progress
    assert reattachment.retry_delay(cut()) == 0.5
    assert reattachment.retry_delay(cut()) is None


def test_policy_delays_and_checks():
    policy = ReconnectPolicy(attempts=5, backoff=1.0, factor=3.0, max_delay=5.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.0, 1.0, 3.0, 5.0, 5.0]
    with pytest.raises(DifyError):
        ReconnectPolicy(attempts=-1)
    assert Reattachment("workflow", ReconnectPolicy(attempts=0)).retry_delay(cut()) is None


def test_a_try_that_times_out_is_the_last_one():
    reattachment = started_chatflow()
    slow = cut()
    slow.timed_out = True
    assert reattachment.retry_delay(slow) == 0.0  # the stream's own read timeout: re-attach
    timed_out = DifyConnectionError("timed out waiting for http://x/v1/workflow/run-1/events")
    timed_out.timed_out = True
    assert reattachment.retry_delay(timed_out) is None
