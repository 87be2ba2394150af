"""Exports (issue 11): a recorded run and a conversation as Markdown and JSON, from real runs of
the simulator over loopback. Every export is grepped for the simulator's keys and tokens."""

from __future__ import annotations

import json

from recorded_runs import REPORT, assert_no_secret, record_chat, record_workflow

from difytui.client import Dify
from difytui.export import ConversationExport, export_conversation, export_run, scrub, suggested_name
from difytui.run_records import RunRecords
from difytui.store import Store


def test_a_workflow_run_as_markdown_and_json(sim, tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    record, events = record_workflow(sim, records, {**REPORT, "notes": "\x1b[31mred\x1b[0m | pipe"})
    md = export_run(records.get(record.id), records.events(record.id), "md")
    path = tmp_path / suggested_name("run", str(record.id), "md")
    path.write_text(md, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Run #{record.id} · report-builder (workflow)")
    assert "- Status: succeeded" in text and "| audience | engineers |" in text
    assert "\x1b" not in text and "␛[31mred␛[0m \\| pipe" in text  # escapes inert, the table intact
    assert "## Outputs" in text and '"sections": 2' in text
    # the node table: one row per execution, the iteration's second round numbered
    assert "| 2 | Plan sections | code | succeeded |" in text
    assert "| #2 Draft section | llm | succeeded |" in text
    assert_no_secret(text, sim)

    dumped = json.loads(export_run(record, events, "json"))
    assert dumped["kind"] == "run" and dumped["events"] == events
    assert dumped["record"]["outputs"] == record.outputs and dumped["record"]["id"] == record.id


def test_a_chat_run_keeps_its_citations_and_loses_a_pasted_key(sim, tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    key = sim.api_keys["support-bot"]
    record, events = record_chat(sim, records, f"is my key {key} safe?")
    for fmt in ("md", "json"):
        text = export_run(record, events, fmt)
        assert_no_secret(text, sim)
        assert key[-4:] in text  # masked, not gone: "app-…abcd"
    md = export_run(record, events, "md")
    assert "## Citations" in md and "1. difytui docs › README.md (score 0.87)" in md
    assert "- Tokens: " in md and "- Cost: " in md and "USD" in md
    assert "\n#### Re: is my key" in md  # the answer's own heading, under the export's


def test_a_conversation_oldest_first_with_local_timings(sim, tmp_path):
    records = RunRecords(Store(tmp_path / "state.db"))
    first, _ = record_chat(sim, records, "how do I install difytui?")
    second, _ = record_chat(sim, records, "and the demo?", conversation_id=first.conversation_id)
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        messages = list(client.app.messages.all("support-bot", first.conversation_id))
        (conversation,) = [
            c for c in client.app.conversations.all("support-bot") if c.id == first.conversation_id
        ]
    assert second.conversation_id == first.conversation_id
    export = ConversationExport("support-bot", first.conversation_id, messages, conversation, [first, second])
    md = export_conversation(export, "md")
    assert md.index("> how do I install difytui?") < md.index("> and the demo?")
    assert md.count("**Assistant:**") == 2 and "Sources:" in md
    assert f"{first.total_tokens} tokens" in md  # the local record's timing and tokens
    assert "| product | difytui |" in md
    dumped = json.loads(export_conversation(export, "json"))
    assert [m["query"] for m in dumped["messages"]] == ["how do I install difytui?", "and the demo?"]
    assert dumped["runs"][0]["message_id"] == first.message_id
    for text in (md, json.dumps(dumped)):
        assert_no_secret(text, sim)


def test_scrub_masks_named_secrets_and_key_shapes():
    text = scrub(
        "k=app-ABCDEFGHIJKLMNOPQRSTUVWX t=dfoa_abcdefghijklmnopqrstuvwxyz s=hunter2hunter2",
        ["hunter2hunter2"],
    )
    assert "ABCDEFGH" not in text and "abcdefghijkl" not in text and "hunter2hunter2" not in text
    assert "app-…UVWX" in text


def test_messages_of_one_second_export_once_each_and_in_the_recorded_order(sim):
    """Dify's timestamps have 1-second resolution and its order inside a second is arbitrary: the
    local records' start times order them; without records each is still there exactly once."""
    from difytui.run_records import RunRecord
    from difytui.sim.apps import ALL_APPS

    sim.state.clock = lambda: 1_795_996_000
    conv = sim.state.new_conversation(ALL_APPS["support-bot"], "support-bot", "tester", "m0", {})
    ids = [sim.state.add_message(conv, f"m{n}", {}).id for n in range(5)]
    with Dify(base_url=sim.base_url, apps=sim.apps_config(), user="tester") as client:
        messages = list(client.app.messages.all("support-bot", conv.id, page_size=2))
    runs = [
        RunRecord("support-bot", "chat", "succeeded", {}, message_id=mid, started=100.0 + n)
        for n, mid in enumerate(ids)
    ]
    md = export_conversation(ConversationExport("support-bot", conv.id, messages, records=runs))
    positions = [md.index(f"> m{n}\n") for n in range(5)]
    assert positions == sorted(positions)
    bare = export_conversation(ConversationExport("support-bot", conv.id, messages))
    assert sorted(line for line in bare.splitlines() if line.startswith("> m")) == [
        f"> m{n}" for n in range(5)
    ]
