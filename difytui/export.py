"""Export a conversation or a recorded run (issue 11) as Markdown or JSON.

Markdown is a readable transcript: inputs, the questions and answers (or the outputs), the node
table, timings and citations. JSON is the full record: every message as Dify sent it, or the run
record with every event it received.

Never a key or token: the run records and Dify's answers hold none, but a user may paste one into
a question or an input, so every string that looks like a Dify key or token (``app-…``,
``dfoa_…``), and every secret the caller names, is masked. Server text is data: control
characters and terminal escapes are made visible (:func:`difytui.text.printable`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .history import Conversation, Message
from .run_compare import NodeRun, node_runs, show_cost, show_seconds, show_tokens
from .run_records import JSON, RunRecord
from .secrets import mask
from .text import printable

Format = Literal["md", "json"]
FORMATS: tuple[Format, ...] = ("md", "json")

#: Dify's key and token shapes: app, dataset and knowledge keys, account (dfoa_) and end-user tokens
_KEYISH = re.compile(r"\b(?:app|dataset|ds|dfoa|dfoe)[-_][A-Za-z0-9_\-]{16,}")
#: characters JSON leaves raw (ensure_ascii=False) that a terminal may obey: escaped, losslessly
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class ConversationExport:
    """A conversation to export: its messages as ``app.messages.all`` gives them (newest first;
    exported oldest first) and what the
    local state knows of it (its name, the run records of its messages)."""

    app_id: str
    conversation_id: str
    messages: Sequence[Message]
    conversation: Conversation | None = None
    records: Sequence[RunRecord] = field(default_factory=list)


# -- public entry points ------------------------------------------------------------------------


def export_run(
    record: RunRecord, events: Sequence[JSON], fmt: Format = "md", secrets: Iterable[str] = ()
) -> str:
    text = run_json(record, events) if fmt == "json" else run_markdown(record, events)
    return scrub(text, secrets)


def export_conversation(
    conversation: ConversationExport, fmt: Format = "md", secrets: Iterable[str] = ()
) -> str:
    text = conversation_json(conversation) if fmt == "json" else conversation_markdown(conversation)
    return scrub(text, secrets)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a Dify key or token masked."""
    for secret in sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return _KEYISH.sub(lambda m: mask(m.group()), text)


def suggested_name(kind: Literal["run", "conversation"], ident: str, fmt: Format) -> str:
    """A file name for an export: ``run-12.md``, ``conversation-5f2c….json``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", ident)[:40] or "export"
    return f"{kind}-{safe}.{fmt}"


# -- JSON ---------------------------------------------------------------------------------------


def run_json(record: RunRecord, events: Sequence[JSON]) -> str:
    return _dumps({"kind": "run", "record": asdict(record), "events": list(events)})


def conversation_json(conversation: ConversationExport) -> str:
    c = conversation.conversation
    body = {
        "kind": "conversation",
        "app_id": conversation.app_id,
        "conversation_id": conversation.conversation_id,
        "conversation": c.raw if c is not None else None,
        "messages": [m.raw for m in _oldest_first(conversation.messages, conversation.records)],
        "runs": [asdict(r) for r in conversation.records],
    }
    return _dumps(body)


def _dumps(body: JSON) -> str:
    dumped = json.dumps(body, indent=2, ensure_ascii=False, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped) + "\n"


# -- Markdown -----------------------------------------------------------------------------------


def run_markdown(record: RunRecord, events: Sequence[JSON]) -> str:
    nodes = node_runs(events)
    title = f"Run #{record.id}" if record.id is not None else "Run"
    out = [f"# {title} · {_inline(record.app_id)} ({_inline(record.interface)})", ""]
    out += _facts(
        [
            ("Status", record.status),
            ("Started", _when(record.started)),
            ("Latency", show_seconds(record.elapsed)),
            ("Tokens", show_tokens(record.total_tokens)),
            ("Cost", show_cost(_price(record.total_price), record.currency)),
            ("Conversation", record.conversation_id),
            ("Message", record.message_id),
            ("Workflow run", record.workflow_run_id),
            ("Task", record.task_id),
        ]
    )
    out += _inputs_section(record.inputs)
    if record.query:
        out += ["## Query", "", _quote(record.query), ""]
    if record.answer:
        out += ["## Answer", "", _nested(record.answer), ""]
    if record.outputs is not None:
        out += ["## Outputs", "", *_fenced_json(record.outputs), ""]
    if record.error:
        out += ["## Error", "", _quote(record.error), ""]
    if nodes:
        out += ["## Nodes", "", *_node_table(nodes), ""]
    sources = _sources(_message_end_resources(events))
    if sources:
        out += ["## Citations", "", *sources, ""]
    return "\n".join(out).rstrip() + "\n"


def conversation_markdown(conversation: ConversationExport) -> str:
    c = conversation.conversation
    messages = _oldest_first(conversation.messages, conversation.records)
    name = c.name if c is not None and c.name else conversation.conversation_id
    out = [f"# Conversation: {_inline(name)} · {_inline(conversation.app_id)}", ""]
    facts: list[tuple[str, str | None]] = [
        ("Conversation", conversation.conversation_id),
        ("Messages", str(len(messages))),
    ]
    if c is not None:
        facts += [("Created", _when(c.created_at)), ("Updated", _when(c.updated_at))]
    out += _facts(facts)
    inputs = c.inputs if c is not None and c.inputs else (messages[0].inputs if messages else {})
    out += _inputs_section(inputs)
    runs = {r.message_id: r for r in conversation.records if r.message_id}
    for n, message in enumerate(messages, 1):
        out += [f"## {n}. {_when(message.created_at)}", "", "**You:**", "", _quote(message.query), ""]
        out += ["**Assistant:**", "", _nested(message.answer) or "_(no answer)_", ""]
        details = _message_details(message, runs.get(message.id))
        if details:
            out += [f"_{' · '.join(details)}_", ""]
        if message.error:
            out += [f"Error: {_inline(message.error)}", ""]
        sources = _sources(message.raw.get("retriever_resources"))
        if sources:
            out += ["Sources:", "", *sources, ""]
    return "\n".join(out).rstrip() + "\n"


def _message_details(message: Message, record: RunRecord | None) -> list[str]:
    details = []
    if message.rating:
        details.append(f"rated {message.rating}")
    if message.status and message.status != "normal":
        details.append(message.status)
    if record is not None:
        details.append(show_seconds(record.elapsed))
        if record.total_tokens is not None:
            details.append(f"{record.total_tokens} tokens")
        cost = _price(record.total_price)
        if cost is not None:
            details.append(show_cost(cost, record.currency))
    return details


def _facts(pairs: Sequence[tuple[str, str | None]]) -> list[str]:
    lines = [f"- {label}: {_inline(value)}" for label, value in pairs if value not in (None, "", "—")]
    return [*lines, ""] if lines else []


def _inputs_section(inputs: Mapping[str, Any]) -> list[str]:
    if not inputs:
        return []
    rows = ["| input | value |", "| --- | --- |"]
    for key in sorted(inputs):
        value = inputs[key]
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        rows.append(f"| {_cell(key)} | {_cell(shown)} |")
    return ["## Inputs", "", *rows, ""]


def _node_table(nodes: Sequence[NodeRun]) -> list[str]:
    rows = ["| # | node | type | status | time | tokens |", "| ---: | --- | --- | --- | ---: | ---: |"]
    for n, node in enumerate(nodes, 1):
        label = node.title if node.occurrence == 1 else f"#{node.occurrence} {node.title}"
        cells = (label, node.node_type, node.status, show_seconds(node.elapsed), show_tokens(node.tokens))
        rows.append(f"| {n} | " + " | ".join(_cell(c) for c in cells) + " |")
        if node.error:
            rows.append(f"| | ↳ error: {_cell(node.error)} | | | | |")
    return rows


def _message_end_resources(events: Sequence[JSON]) -> object:
    for event in reversed(events):
        if event.get("event") == "message_end":
            metadata = event.get("metadata")
            return metadata.get("retriever_resources") if isinstance(metadata, dict) else None
    return None


def _sources(items: object) -> list[str]:
    """Citations as a numbered list: dataset › document (score), and the start of the passage."""
    if not isinstance(items, list):
        return []
    found = [i for i in items if isinstance(i, dict)]
    found.sort(key=lambda i: i["position"] if isinstance(i.get("position"), int) else 0)
    lines = []
    for n, item in enumerate(found, 1):
        where = " › ".join(
            _inline(p)
            for p in (item.get("dataset_name"), item.get("document_name"))
            if isinstance(p, str) and p
        )
        score = item.get("score")
        scored = (
            f" (score {score:.2f})" if isinstance(score, float | int) and not isinstance(score, bool) else ""
        )
        snippet = item.get("content") or item.get("summary") or ""
        lines.append(f"{n}. {where or 'unnamed source'}{scored}")
        if isinstance(snippet, str) and snippet:
            lines.append(f"   > {_inline(snippet)[:300]}")
    return lines


def _fenced_json(value: Any) -> list[str]:
    dumped = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    fence = "```" + "`" * max((len(m) for m in re.findall(r"`{3,}", dumped)), default=0)
    return [f"{fence}json", printable(dumped), fence]


def _nested(answer: str) -> str:
    """An answer's Markdown under the export's own headings: its headings two levels deeper
    (outside code fences), so "## Re: …" in an answer does not look like a section of the file."""
    lines, fence = [], ""
    for line in printable(answer).rstrip().splitlines():
        marker = re.match(r"\s*(`{3,}|~{3,})", line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)
        elif not fence and re.match(r"#{1,4} ", line):
            line = "##" + line
        lines.append(line)
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in printable(text).splitlines()) or ">"


def _inline(text: object) -> str:
    return " ".join(printable(text).split())


def _cell(text: object) -> str:
    return _inline(text).replace("|", "\\|")


def _when(stamp: float | None) -> str | None:
    if not stamp:
        return None
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _price(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _oldest_first(messages: Sequence[Message], records: Sequence[RunRecord] = ()) -> list[Message]:
    """Oldest first. Dify's timestamps have 1-second resolution and its order inside a second is
    arbitrary, so ties go by the reply chain (``parent_message_id``), then by when the local
    record says the run started, then by the order given (``messages.all`` keeps Dify's page
    order inside a second: oldest first, as far as Dify knows)."""
    given = list(messages)
    by_id = {m.id: m for m in given}
    started = {r.message_id: r.started for r in records if r.message_id}

    def depth(message: Message) -> int:
        seen: set[str] = set()
        while isinstance(parent := message.raw.get("parent_message_id"), str) and parent in by_id:
            if parent in seen:
                break
            seen.add(parent)
            message = by_id[parent]
        return len(seen)

    order = {m.id: n for n, m in enumerate(given)}
    return sorted(given, key=lambda m: (m.created_at, depth(m), started.get(m.id, 0.0), order[m.id]))
