"""The script that runs a Human Input app's graph (:mod:`.human_input_graphs`): pause, resume, finish.

Event order up to a pause and after a resume follows facts 2, 19, 21 and 22 of the captures'
README (A01, A24, C01, C05, C21, E02, E08, X05, X14).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .human_input import new_form, render
from .run_log import SUSPEND, log_of, paused_data
from .runs import Run
from .state import now

_PIECE = re.compile(r"(\{\{#[A-Za-z_$][\w]*\.[\w]+#\}\})")


def _pieces(template: str, values: dict[str, Any], own: list[str]) -> list[tuple[str, list[str]]]:
    """The streamed pieces of a template: literal runs (selector ``own``) and each variable."""
    out = []
    for part in _PIECE.split(template):
        if not part:
            continue
        if _PIECE.fullmatch(part):
            key = part[3:-3]
            out.append((str(values.get(key, "")), key.split(".")))
        else:
            out.append((part, own))
    return [(text, sel) for text, sel in out if text]


def _text_events(run: Run, pieces: list[tuple[str, list[str]]]) -> Iterator[dict]:
    for text, selector in pieces:
        run.answer += text
        if run.mode == "advanced-chat":
            yield run.env("message", id=run.msg.id, answer=text, from_variable_selector=selector)
        else:
            yield run.wf_env("text_chunk", {"text": text, "from_variable_selector": selector})


def _segment(value: Any) -> dict:
    kinds = {str: "string", int: "number", float: "number", list: "array[any]", dict: "object"}
    return {"value_type": kinds.get(type(value), "string"), "value": value}


def _resumed_node(started: dict) -> dict:
    """The paused node starts again with its execution id, ``index`` back at 1 (A24)."""
    event = {**started, "data": {**started["data"], "index": 1, "created_at": now()}}
    return event


def human_input_events(run: Run) -> Iterator[Any]:
    """Run a Human Input app's graph: pause at each form (SUSPEND), go on once it is submitted."""
    graph = run.app["graph"]
    chat = run.mode == "advanced-chat"
    values: dict[str, Any] = {f"start.{k}": v for k, v in run.inputs.items()}
    values["sys.query"] = run.query
    #: chat text streamed before the first pause, pieces as sent (Dify re-sends them: fact 22)
    pre: list[tuple[str, list[str]]] = []
    streamed: set[str] = set()
    outputs: dict[str, Any] = {}
    yield run.workflow_started()
    if chat:  # an Answer before any form streams at once, before the node events (C01)
        for node in graph:
            if node["type"] == "human-input":
                break
            if node["type"] == "answer":
                pieces = _pieces(node["template"], values, [node["id"], "answer"])
                pre += pieces
                streamed.add(node["id"])
                yield from _text_events(run, pieces)
    for pos, node in enumerate(graph):
        kind = node["type"]
        if kind == "start":
            started = run.node_started("start", "start", "Start")
            yield started
            yield run.node_finished(started, dict(run.inputs), dict(run.inputs))
        elif kind == "answer":
            started = run.node_started(node["id"], "answer", node["title"])
            yield started
            text = render(node["template"], values)
            if node["id"] not in streamed:
                yield from _text_events(run, _pieces(node["template"], values, [node["id"], "answer"]))
            yield run.node_finished(started, {}, {"answer": text, "files": []})
        elif kind == "end":
            started = run.node_started("end", "end", "End")
            yield started
            if "stream" in node and "end" not in streamed:
                yield from _text_events(run, _pieces(node["stream"], values, ["end", "answer"]))
            outputs = {name: values.get(sel) for name, sel in node["outputs"].items()}
            yield run.node_finished(started, outputs, outputs)
        else:
            failed = yield from _human_input(run, node, values, pre, streamed, graph[pos + 1 :])
            if failed is not None:
                yield failed
                return
    if chat:
        # outputs.answer holds every Answer node's text, whatever the stream carried (fact 22)
        full = "".join(render(n["template"], values) for n in graph if n["type"] == "answer")
        outputs = {"answer": full, "files": []}
        run.finish_message()
        run.msg.status = "normal"
        yield run.message_end(files=[])
    yield run.workflow_finished(outputs)


def _human_input(
    run: Run, node: dict, values: dict, pre: list, streamed: set[str], rest: list[dict]
) -> Iterator[Any]:
    """One Human Input node: the form, the pause, and (after the submit) the node's resumption.
    Returns the workflow_finished event that ends a failed or stopped resumption, else None."""
    log = log_of(run)
    chat = run.mode == "advanced-chat"
    started = run.node_started(node["id"], "human-input", node["title"])
    yield started
    form = new_form(run, node, values)
    log.forms = [form]
    yield run.wf_env("human_input_required", form.required_data())
    run.wf_run.status = "paused"
    yield run.wf_env("workflow_paused", paused_data(run, [form]))
    record: dict[str, Any] = {}
    if chat:
        # the stored answer: what streamed so far (streaming origin) or nothing (blocking, C04)
        run.msg.answer = run.answer if log.streaming else ""
        run.msg.status = "paused" if log.streaming else "normal"
        definition = form.required_data()
        record = {
            "workflow_run_id": run.wf_run.id,
            "submitted": False,
            "form_definition": definition,
            "form_submission_data": None,
            "type": "human_input",
        }
        run.msg.extra_contents.append(record)
    yield SUSPEND
    assert log.submission is not None  # only a submit resumes the script
    _form, inputs, action = log.submission
    log.submission, log.forms = None, []
    run.wf_run.status = "running"
    resumed = run.workflow_started()
    resumed["data"] = {**resumed["data"], "created_at": now(), "reason": "resumption"}
    yield resumed
    if log.stopped_while_paused:
        # the stop was ignored while paused, and lands now: the stream says stopped, the record
        # stays "running" forever (X14, X16)
        run.stopped = True
        finished = run.workflow_finished({})
        run.wf_run.status, run.wf_run.finished_at = "running", None
        return finished
    if chat:
        # Dify 1.14.2: the resumed stream re-sends the text streamed before the pause (right after
        # workflow_started) and never streams the Answer after it, whose text only reaches
        # workflow_finished.outputs.answer (fact 22, C05); the stored answer gets the repeat (C10)
        run.answer = run.msg.answer
        if pre:
            yield from _text_events(run, pre)
            streamed.update(n["id"] for n in rest if n["type"] == "answer")
    yield _resumed_node(started)
    again = _resumed_node(started)
    bad = next((k for k, v in inputs.items() if not isinstance(v, str)), None)
    if bad is not None:  # accepted by the submit, fatal here (A11/A12, X05)
        error = (
            f"HumanInput file list input expects a string, output_variable_name={bad}, "
            f"got={type(inputs[bad]).__name__}"
        )
        failed = run.node_finished(again, {}, {})
        failed["data"].update(status="failed", error=error, outputs=None)
        yield failed
        end = run.workflow_finished({})
        run.wf_run.status, run.wf_run.error = "failed", error
        end["data"].update(status="failed", error=error, outputs={}, exceptions_count=1)
        return end
    rendered = _form.rendered(inputs)
    title = _form.action_title(action)
    filled = {
        "node_id": node["id"],
        "node_title": node["title"],
        "rendered_content": rendered,
        "action_id": action,
        "action_text": title,
        "submitted_data": inputs,
    }
    if record:  # the history's record of the form: submitted, token gone (C10)
        record["form_definition"] = {**record["form_definition"], "form_token": None}
        record.update(submitted=True, form_submission_data=dict(filled))
    yield run.wf_env("human_input_form_filled", filled)
    nid = node["id"]
    values.update({f"{nid}.{k}": v for k, v in inputs.items()})
    values.update(
        {f"{nid}.__action_id": action, f"{nid}.__action_value": title, f"{nid}.__rendered_content": rendered}
    )
    more_forms = any(n["type"] == "human-input" for n in rest)
    if chat and not more_forms:
        for later in rest:
            if later["type"] == "answer" and later["id"] not in streamed:
                yield from _text_events(run, _pieces(later["template"], values, [later["id"], "answer"]))
                streamed.add(later["id"])
    elif not chat and not more_forms:
        for later in rest:
            if later["type"] == "end" and "stream" in later:
                yield from _text_events(run, _pieces(later["stream"], values, ["end", "answer"]))
                streamed.add("end")
    outputs = {**inputs, "__action_id": action, "__rendered_content": rendered, "__action_value": title}
    yield run.node_finished(again, {k: _segment(v) for k, v in inputs.items()}, outputs)
    return None
