"""The sources under an answer: ``message_end.metadata.retriever_resources`` as a folded list.

Folded, it is one line ("▶ 2 sources: docs › README.md, …"); Enter or a click on it shows each
source: dataset › document, score, and the start of the retrieved passage. Everything in it is
server text: shown literally (``Content``/``Text``, never markup), newlines folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import Collapsible, Static

from difytui.tui.safe_text import one_line

#: Characters of the retrieved passage shown per source (the rest is in the raw events, ctrl+t).
SNIPPET = 240
#: Characters of the folded title's list of documents.
TITLE_NAMES = 60


@dataclass(frozen=True)
class Source:
    """One retrieved segment, as Dify cites it (``api/core/rag/entities/citation_metadata.py``)."""

    dataset: str
    document: str
    score: float | None
    snippet: str

    @property
    def where(self) -> str:
        return " › ".join(part for part in (self.dataset, self.document) if part) or "unnamed source"


def sources(metadata: Any) -> list[Source]:
    """The citations in a ``message_end`` ``metadata`` (anything malformed is skipped)."""
    items = metadata.get("retriever_resources") if isinstance(metadata, dict) else None
    if not isinstance(items, list):
        return []
    found = [item for item in items if isinstance(item, dict)]
    found.sort(key=lambda item: item["position"] if isinstance(item.get("position"), int) else 0)
    result = []
    for item in found:
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            score = None
        result.append(
            Source(
                dataset=one_line(item.get("dataset_name") or ""),
                document=one_line(item.get("document_name") or item.get("title") or ""),
                score=None if score is None else float(score),
                snippet=one_line(item.get("content") or item.get("summary") or ""),
            )
        )
    return result


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def title(found: list[Source]) -> str:
    count = f"{len(found)} source" + ("" if len(found) == 1 else "s")
    names = list(dict.fromkeys(s.document or s.dataset for s in found if s.document or s.dataset))
    return f"{count}: {_trim(', '.join(names), TITLE_NAMES)}" if names else count


def source_rows(index: int, source: Source) -> list[Static]:
    """Its heading line (dataset › document, score) and its trimmed snippet, indented under it."""
    head = Text()
    head.append(f"{index}. ", style="dim")
    head.append(source.where, style="bold")
    if source.score is not None:
        head.append(f"  score {source.score:.2f}", style="dim")
    rows = [Static(head, classes="citation", markup=False)]
    if source.snippet:
        snippet = Text(_trim(source.snippet, SNIPPET), style="italic")
        rows.append(Static(snippet, classes="citation-snippet", markup=False))
    return rows


class Citations(Collapsible):
    """The sources of one answer, folded to one line under it."""

    def __init__(self, found: list[Source]) -> None:
        rows = [row for i, source in enumerate(found, 1) for row in source_rows(i, source)]
        # Content: a str title would be parsed as markup.
        super().__init__(*rows, title=Content(title(found)), collapsed=True, classes="citations")
        self.sources = found
