"""The event script each app mode streams, shaped like Dify 1.14.2's task pipelines (protocol §4.3–4.5).

A script is a generator over a :class:`~.runs.Run`: it yields event dicts (envelope keys first, in
Dify's order), :class:`~.runs.Pause` markers for "work" between events, or :class:`~.runs.Raw`
pre-encoded bytes (benchmark). It is synchronous and checks ``run.stopped`` every time it resumes,
so the same script serves streaming (the server paces it and writes frames) and blocking (drained
at once, then :meth:`~.runs.Run.blocking_body`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from . import content
from .human_input_script import human_input_events
from .run_log import Suspend, log_of, published
from .runs import ENGINE_START, Pause, Raw, Run
from .state import now
from .wire import sse_frame

#: What a script yields: an event, simulated work, pre-encoded frames, or a pause on a form.
Item = dict | Pause | Raw | Suspend


def _stream_answer(
    run: Run, text: str, event: str = "message", selector: list[str] | None = None
) -> Iterator[dict]:
    for tok in content.tokens(text):
        if run.stopped:
            return
        run.answer += tok
        if event == "agent_message":
            yield run.env(event, id=run.msg.id, answer=tok)
        else:
            yield run.env(event, id=run.msg.id, answer=tok, from_variable_selector=selector)


def chat_events(run: Run) -> Iterator[Item]:
    if run.app_id == "grader":
        text = content.grade(run.query, run.inputs)
    else:
        text = content.support_answer(run.query, run.inputs, len(run.conv.messages))
    yield from _stream_answer(run, text)
    run.finish_message()
    yield run.message_end()


def completion_events(run: Run) -> Iterator[Item]:
    yield from _stream_answer(run, content.copy_answer(run.query, run.inputs))
    run.finish_message()
    yield run.message_end()


def agent_events(run: Run) -> Iterator[Item]:
    tool_query, observation, final = content.agent_plan(run.query, run.inputs)
    labels = {"web_search": {"en_US": "Web Search", "zh_Hans": "网页搜索"}}
    thoughts: list[dict] = []

    def thought(
        tid: str, position: int, text: str = "", tool: str = "", tool_input: str = "", obs: str = ""
    ) -> dict:
        fields = {
            "id": tid,
            "position": position,
            "thought": text,
            "observation": obs,
            "tool": tool,
            "tool_labels": labels if tool else {},
            "tool_input": tool_input,
            "message_files": [],
        }
        record = {
            "id": tid,
            "chain_id": None,
            "message_id": run.msg.id,
            "position": position,
            "thought": text,
            "tool": tool,
            "tool_labels": fields["tool_labels"],
            "tool_input": tool_input,
            "created_at": run.created_at,
            "observation": obs,
            "files": [],
        }
        thoughts[position - 1 : position] = [record]
        return run.env("agent_thought", **fields)

    def finish() -> dict:
        run.msg.agent_thoughts = thoughts
        run.finish_message()
        return run.message_end()

    t1 = run.state.ids.new("thought")
    thoughts.append({})
    yield thought(t1, 1)
    intro = "Let me check the weather and the sights first. "
    yield from _stream_answer(run, intro, "agent_message")
    tool_input = json.dumps({"web_search": {"query": tool_query}}, ensure_ascii=False)
    if run.stopped:
        yield finish()
        return
    yield thought(t1, 1, intro, "web_search", tool_input)
    yield Pause(15)
    if run.stopped:
        yield finish()
        return
    result = json.dumps({"web_search": observation}, ensure_ascii=False)
    yield thought(t1, 1, intro, "web_search", tool_input, result)
    t2 = run.state.ids.new("thought")
    thoughts.append({})
    yield thought(t2, 2)
    before = len(run.answer)
    yield from _stream_answer(run, final, "agent_message")
    yield thought(t2, 2, run.answer[before:])
    yield finish()


def chatflow_events(run: Run) -> Iterator[Item]:
    turn = len(run.conv.messages)
    text = content.trip_answer(run.query, run.inputs, turn, run.files)
    # The Answer node's template opens with start inputs ("# {{city}} in {{season}}"), then the
    # LLM's text: Dify streams the first part at once, before any node event (run_chat_turn1).
    heading, _, body = text.partition("\n\n")
    heading += "\n\n"
    outputs: dict = {}
    yield run.workflow_started()
    yield from _stream_answer(run, heading, selector=["answer", "answer"])
    if not run.stopped:
        started = run.node_started("start", "start", "Start")
        yield started
        yield run.node_finished(started, dict(run.inputs), dict(run.inputs))
        yield Pause(ENGINE_START)
    if not run.stopped:
        started = run.node_started("llm", "llm", "Plan the trip")
        yield started
        yield Pause(8)
        yield from _stream_answer(run, body, selector=["llm", "text"])
        if not run.stopped:
            yield run.node_finished(
                started,
                {"query": run.query},
                {"text": body, "finish_reason": "stop"},
                {"total_tokens": 42, "total_price": "0.0000840", "currency": "USD"},
            )
    if not run.stopped:
        started = run.node_started("answer", "answer", "Answer")
        yield started
        outputs = {"answer": run.answer, "files": []}
        yield run.node_finished(started, {}, outputs)
    run.finish_message()
    if not run.stopped:
        # The relay stops at workflow_finished, so a stopped chatflow never delivers message_end.
        yield run.message_end(files=[])
    yield run.workflow_finished(outputs)


def workflow_events(run: Run) -> Iterator[Item]:
    inputs = run.inputs
    titles = content.section_titles(inputs.get("topic") or "", inputs.get("sections") or 3)
    audience = inputs.get("audience") or "everyone"
    include_code = bool(inputs.get("include_code"))
    yield run.workflow_started()

    def stopped_end() -> dict:
        return run.workflow_finished({})

    def chunks(text: str, selector: list[str]) -> Iterator[dict]:
        for tok in content.tokens(text, 6):
            if run.stopped:
                return
            run.answer += tok
            yield run.wf_env("text_chunk", {"text": tok, "from_variable_selector": selector})

    # The End node's template opens with start inputs: Dify streams that part before any node
    # event (wf_slow_streaming_stopped: text_chunk, then node_started of Start).
    head = content.report_head(inputs)
    yield from chunks(head, ["end", "report"])
    if run.stopped:
        yield stopped_end()
        return
    started = run.node_started("start", "start", "Start")
    yield started
    yield run.node_finished(started, dict(inputs), dict(inputs))
    yield Pause(ENGINE_START)
    if run.stopped:
        yield stopped_end()
        return
    started = run.node_started("plan", "code", "Plan sections")
    yield started
    yield Pause(5)
    yield run.node_finished(
        started, {"topic": inputs.get("topic"), "sections": len(titles)}, {"titles": titles}
    )
    if run.stopped:
        yield stopped_end()
        return

    it_id = "draft_sections"
    it_data = {
        "id": it_id,
        "node_id": it_id,
        "node_type": "iteration",
        "title": "Draft each section",
        "created_at": now(),
        "extras": {},
        "metadata": {"iterator_length": len(titles)},
        "inputs": {"iterator_selector": ["plan", "titles"]},
        "inputs_truncated": False,
    }
    yield run.wf_env("iteration_started", it_data)
    drafts: list[str] = []
    for i, title in enumerate(titles):
        if run.stopped:
            yield stopped_end()
            return
        yield run.wf_env(
            "iteration_next",
            {
                "id": it_id,
                "node_id": it_id,
                "node_type": "iteration",
                "title": "Draft each section",
                "index": i,
                "created_at": now(),
                "extras": {},
            },
        )
        started = run.node_started("draft_llm", "llm", "Draft section", iteration=it_id)
        yield started
        yield Pause(10)
        draft = content.section_draft(title, audience, include_code)
        drafts.append(draft)
        yield run.node_finished(
            started,
            {"title": title},
            {"text": draft, "finish_reason": "stop"},
            {"total_tokens": 64, "iteration_id": it_id, "iteration_index": i},
        )
    yield run.wf_env(
        "iteration_completed",
        {
            "id": it_id,
            "node_id": it_id,
            "node_type": "iteration",
            "title": "Draft each section",
            "outputs": {"output": drafts},
            "outputs_truncated": False,
            "created_at": it_data["created_at"],
            "extras": {},
            "inputs": it_data["inputs"],
            "inputs_truncated": False,
            "status": "succeeded",
            "error": None,
            "elapsed_time": round(0.05 * len(titles), 6),
            "total_tokens": 64 * len(titles),
            "execution_metadata": {"total_tokens": 64 * len(titles)},
            "finished_at": now(),
            "steps": len(titles),
        },
    )
    report = content.report_text(inputs, drafts)
    started = run.node_started("end", "end", "End")
    yield started
    yield from chunks(report[len(head) :], ["template", "output"])
    if run.stopped:
        yield stopped_end()
        return
    summary = {
        "topic": inputs.get("topic"),
        "audience": audience,
        "sections": len(titles),
        "words": len(report.split()),
        "include_code": include_code,
    }
    outputs = {"report": report, "summary": summary}
    yield run.node_finished(started, outputs, outputs)
    run.usage = {"total_tokens": 64 * len(titles) + 20}
    yield run.workflow_finished(outputs)


def bench_events(run: Run) -> Iterator[Item]:
    """N identical pre-encoded message events in large batches, so the server is not the limit."""
    n = run.inputs.get("events")
    n = 50000 if n is None else max(0, int(n))
    frame = sse_frame(run.env("message", id=run.msg.id, answer="tok ", from_variable_selector=None))
    batch = 1000
    sent = 0
    while sent < n and not run.stopped:
        k = min(batch, n - sent)
        yield Raw(frame * k, k)
        sent += k
    run.answer = "tok " * sent
    run.finish_message()
    yield run.message_end()


_SCRIPTS: dict[str, Callable[[Run], Iterator[Item]]] = {
    "chat": chat_events,
    "agent-chat": agent_events,
    "advanced-chat": chatflow_events,
    "workflow": workflow_events,
    "completion": completion_events,
}


def events_for(run: Run) -> Iterator[Item]:
    """The run's script: by its app's mode (the hidden benchmark app and the apps with Human Input
    nodes have their own). A workflow run's events go to its log too, for ``/events``; the log
    keeps the script, which a Human Input node suspends until its form is submitted."""
    if run.app_id == "bench-stream":
        return bench_events(run)
    script = human_input_events(run) if "graph" in run.app else _SCRIPTS[run.mode](run)
    if run.workflow_run is None:
        return script
    log = log_of(run)
    log.script = published(run, script)
    return log.script
