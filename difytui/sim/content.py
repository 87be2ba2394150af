"""Deterministic demo answers: helpful-looking Markdown that echoes the query and the inputs.

Some answers deliberately contain non-ASCII (é, 日本, emoji) so chunk-cutting tests and the demo
exercise multi-byte UTF-8 split across network reads.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

_PIECE = re.compile(r"\s*\S+|\s+")


def tokens(text: str, size: int = 4) -> list[str]:
    """Split text into LLM-like deltas of a few characters (words, long words cut in pieces)."""
    out: list[str] = []
    for word in _PIECE.findall(text):
        out.extend(word[i : i + size] for i in range(0, len(word), size))
    return out


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and value.get("dify_model_identity"):
        return value.get("filename") or "file"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "—"
    return str(value)


def support_answer(query: str, inputs: dict, turn: int) -> str:
    name = inputs.get("customer_name") or "there"
    product = inputs.get("product") or "difytui"
    return (
        f"## Re: {query}\n\n"
        f"Hi {name}! Here is what I found about **{product}** (turn {turn}):\n\n"
        "1. Pick an app in the list on the left (or `ctrl+p` → *Switch app*).\n"
        "2. Fill in the form — required fields are marked with `*`.\n"
        "3. Press `Enter` to send; `Esc` stops a running answer.\n\n"
        "```bash\n"
        "difytui --demo                                   # try everything without a server\n"
        'difytui --demo invoke support-bot -q "hello"     # the same from a script\n'
        "```\n\n"
        "> Tip: answers stream token by token, so you can stop early. Merci et à bientôt! 👋\n"
    )


def agent_plan(query: str, inputs: dict) -> tuple[str, str, str]:
    """(tool input query, tool observation, final answer) for the travel agent."""
    days = inputs.get("days") or 3
    budget = bool(inputs.get("budget_mode"))
    prefs = inputs.get("preferences") or "no particular preferences"
    observation = '{"forecast": "sunny, 22°C", "highlights": ["Fushimi Inari 伏見稲荷", "Nishiki market"]}'
    lines = [f"### {days}-day plan: {query}", ""]
    for day in range(1, int(days) + 1 if isinstance(days, (int, float)) else 4):
        if day > 7:
            lines.append("- …and more days of free exploring.")
            break
        lines.append(
            f"- **Day {day}** — {'a free walking tour' if budget else 'a guided tour'} "
            f"in the morning, café crawl in the afternoon ☕"
        )
    lines += ["", f"Preferences noted: _{prefs}_. Weather looks sunny (22°C). Bon voyage! ✈️"]
    return query, observation, "\n".join(lines) + "\n"


def trip_answer(query: str, inputs: dict, turn: int, files: list | None = None) -> str:
    city = inputs.get("city") or "your city"
    season = inputs.get("season") or "any season"
    photo = inputs.get("photo")
    extra = f"\nI looked at your photo *{_show(photo)}* — lovely light! 📷\n" if photo else ""
    if files:  # the message's own attachments (sys.files)
        extra += f"\nThanks for the attachments: *{_show(files)}*. 📎\n"
    return (
        f"# {city} in {season}\n\n"
        f"You asked: *{query}* (message {turn} of our chat).\n\n"
        "| Time | Plan |\n|------|------|\n"
        f"| Morning | Walk the old town of {city} |\n"
        "| Noon | Lunch: try the local specialty (ramen 日本 or crêpes) |\n"
        "| Evening | Sunset viewpoint 🌅 |\n"
        f"{extra}\n"
        "Ask a follow-up and I'll keep the same city in mind.\n"
    )


def section_titles(topic: str, sections: int) -> list[str]:
    base = ["Background", "Current state", "Risks", "Options", "Recommendation", "Next steps"]
    n = max(1, min(int(sections or 3), len(base)))
    return [f"{title}: {topic}" for title in base[:n]]


def section_draft(title: str, audience: str, include_code: bool) -> str:
    text = f"## {title}\n\nA short, {audience}-friendly summary of {title.lower()}.\n"
    if include_code:
        text += "\n```python\nprint('résumé ✓')\n```\n"
    return text


def report_text(inputs: dict, drafts: list[str]) -> str:
    return report_head(inputs) + "\n".join(drafts)


def report_head(inputs: dict) -> str:
    """The report's start: only start inputs, so Dify streams it before any node runs."""
    head = f"# Report: {inputs.get('topic')}\n\n"
    notes = inputs.get("notes")
    if notes:
        head += f"> Notes: {notes}\n\n"
    meta = inputs.get("metadata")
    if meta:
        head += f"_Metadata: {_show(meta)}_\n\n"
    files = inputs.get("attachments")
    if files:
        head += f"_Attachments: {_show(files)}_\n\n"
    return head


def copy_answer(query: str, inputs: dict) -> str:
    product = inputs.get("product_name") or "Your product"
    tone = inputs.get("tone") or "friendly"
    brief = inputs.get("brief") or query
    return (
        f"## {product}\n\n"
        f"*Tone: {tone}*\n\n"
        f"**{product}** — {brief.strip()}\n\n"
        "- Fast to set up, pleasant to use ✨\n"
        "- Works offline, syncs when you're back online\n"
        "- Loved by teams from Paris to 東京\n\n"
        f"_Try {product} today — c'est magnifique!_\n"
    )


#: A rubric's keywords: the phrases it puts in straight or curly double quotes.
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')


def grade(query: str, inputs: dict) -> str:
    """The grader app's verdict, by a fixed rule so the bench's ``judge`` passes and fails on purpose.

    The rubric and the answer are the ``rubric`` and ``answer`` inputs when given, else the query
    split at its first blank line (the judge's default query: the rubric, a blank line, the
    answer). ``PASS`` when every phrase the rubric quotes ("…" or “…”) occurs in the answer,
    ignoring case; ``FAIL`` naming the missing ones otherwise, or when the rubric quotes none.
    """
    rubric, _, answer = query.partition("\n\n")
    rubric = str(inputs.get("rubric") or rubric)
    answer = str(inputs.get("answer") or answer)
    keywords = [a or b for a, b in _QUOTED.findall(rubric)]
    if not keywords:
        return "FAIL: the rubric quotes no keyword to look for."
    missing = [k for k in keywords if k.casefold() not in answer.casefold()]
    if missing:
        return "FAIL: the answer does not mention " + ", ".join(f'"{k}"' for k in missing) + "."
    return "PASS: the answer mentions " + ", ".join(f'"{k}"' for k in keywords) + "."


#: The knowledge-base hit a chat app with citations reports for a non-empty answer.
CITATION = {
    "position": 1,
    "dataset_id": "3f0c2a9e-1b7d-4c55-9e2f-0d1a6c4b8e71",
    "dataset_name": "difytui docs",
    "document_id": "8d2e4b1a-6c3f-4a9e-b7d0-2f5e1c8a9b34",
    "document_name": "README.md",
    "data_source_type": "upload_file",
    "segment_id": "5a7c9e1b-3d2f-4b6a-8c0e-9f1d2b4a6c88",
    "retriever_from": "api",
    "score": 0.8731,
    "hit_count": 3,
    "word_count": 112,
    "segment_position": 2,
    "index_node_hash": "b1946ac92492d2347c6235b4d2611184",
    "content": "difytui --demo starts a local simulator so every screen works without a server.",
    "page": None,
    "doc_metadata": None,
    "title": None,
    "files": None,
    "summary": None,
}

#: What history (``GET /messages``) lists for a citation (``api/fields/message_fields.py``).
_HISTORY_CITATION_KEYS = (
    "position",
    "dataset_id",
    "dataset_name",
    "document_id",
    "document_name",
    "data_source_type",
    "segment_id",
    "score",
    "hit_count",
    "word_count",
    "segment_position",
    "index_node_hash",
    "content",
    "summary",
)


def history_citation(citation: dict, message_id: str, created_at: int) -> dict:
    # Its id comes from the message's, not the simulator's id counter: the ids of every later
    # task, message and conversation stay what they were before citations were recorded.
    record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"citation:{message_id}"))
    kept = {key: citation.get(key) for key in _HISTORY_CITATION_KEYS}
    return {"id": record_id, "message_id": message_id, **kept, "created_at": created_at}
