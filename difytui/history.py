"""Conversation history as typed records, and the pagers that walk Dify's history lists (sans-io).

The pagers hold no connection: each says which query to send next and takes the page that came
back, so both clients (and tests) drive the same logic. ``MessagePager`` works around Dify's
1-second timestamps: ``first_id`` paging selects ``created_at < created_at(first_id)``, so the
messages sharing a second with a page's oldest one would be skipped (captures P05/P06). It pages
from a message of the *next* second instead, reading that second again, and drops what it has seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
Rating = Literal["like", "dislike"]
SortBy = Literal["created_at", "-created_at", "updated_at", "-updated_at"]
#: Dify's largest ``limit`` on /conversations and /messages
MAX_LIMIT = 100


def _text(raw: JSON, key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _number(raw: JSON, key: str) -> float:
    value = raw.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _object(raw: JSON, key: str) -> JSON:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Conversation:
    id: str
    name: str
    inputs: JSON
    status: str
    introduction: str
    created_at: float
    updated_at: float
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Conversation:
        return cls(
            id=_text(raw, "id"),
            name=_text(raw, "name"),
            inputs=_object(raw, "inputs"),
            status=_text(raw, "status"),
            introduction=_text(raw, "introduction"),
            created_at=_number(raw, "created_at"),
            updated_at=_number(raw, "updated_at"),
            raw=raw,
        )


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    query: str
    answer: str
    inputs: JSON
    #: ``like``, ``dislike`` or None (Dify's message items carry only the rating, not the comment)
    rating: str | None
    status: str
    error: str | None
    created_at: float
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Message:
        feedback = _object(raw, "feedback")
        rating = feedback.get("rating")
        error = raw.get("error")
        return cls(
            id=_text(raw, "id"),
            conversation_id=_text(raw, "conversation_id"),
            query=_text(raw, "query"),
            answer=_text(raw, "answer"),
            inputs=_object(raw, "inputs"),
            rating=rating if isinstance(rating, str) else None,
            status=_text(raw, "status"),
            error=error if isinstance(error, str) else None,
            created_at=_number(raw, "created_at"),
            raw=raw,
        )


@dataclass(frozen=True)
class Page:
    """One page of a list: its items (conversations newest first; messages as Dify sends them,
    oldest first) and whether Dify says more follow."""

    items: list[Any]
    has_more: bool


@dataclass(frozen=True)
class Feedback:
    """One rating in the app's feedback list (``GET /app/feedbacks``: ISO timestamps)."""

    id: str
    message_id: str
    conversation_id: str
    rating: str
    content: str | None
    created_at: str
    updated_at: str
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Feedback:
        content = raw.get("content")
        return cls(
            id=_text(raw, "id"),
            message_id=_text(raw, "message_id"),
            conversation_id=_text(raw, "conversation_id"),
            rating=_text(raw, "rating"),
            content=content if isinstance(content, str) else None,
            created_at=_text(raw, "created_at"),
            updated_at=_text(raw, "updated_at"),
            raw=raw,
        )


@dataclass(frozen=True)
class Suggestions:
    """Suggested questions after an answer. ``unavailable`` says quietly why there are none:
    ``"disabled"`` (the app's feature is off) or ``"no_model"`` (on, but Dify's model failed)."""

    questions: list[str]
    unavailable: Literal["disabled", "no_model"] | None = None


@dataclass(frozen=True)
class WorkflowRunSummary:
    """A server-side workflow run as ``GET /workflows/logs`` lists it."""

    id: str
    status: str
    error: str | None
    elapsed_time: float
    total_tokens: int
    total_steps: int
    created_at: float
    finished_at: float | None
    #: the end user's ``user`` string that started it (None: started from the console or web app)
    session_id: str | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> WorkflowRunSummary:
        run = _object(raw, "workflow_run")
        end_user = _object(raw, "created_by_end_user")
        session = end_user.get("session_id")
        error = run.get("error")
        return cls(
            id=_text(run, "id"),
            status=_text(run, "status"),
            error=error if isinstance(error, str) else None,
            elapsed_time=_number(run, "elapsed_time"),
            total_tokens=int(_number(run, "total_tokens")),
            total_steps=int(_number(run, "total_steps")),
            created_at=_number(run, "created_at"),
            finished_at=_number(run, "finished_at") if run.get("finished_at") is not None else None,
            session_id=session if isinstance(session, str) else None,
            raw=raw,
        )


@dataclass(frozen=True)
class WorkflowLogPage:
    """A ``/workflows/logs`` page (paged by page number, newest first)."""

    items: list[WorkflowRunSummary]
    page: int
    total: int
    has_more: bool


@dataclass(frozen=True)
class WorkflowRunDetail:
    """``GET /workflows/run/:id``. Dify sends ``inputs`` as a JSON *string* (with the ``sys.*``
    variables); here it is decoded (``{}`` if it is not a JSON object)."""

    id: str
    status: str
    inputs: JSON
    outputs: JSON
    error: str | None
    total_steps: int
    total_tokens: int
    elapsed_time: float
    created_at: float
    finished_at: float | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> WorkflowRunDetail:
        inputs: object = raw.get("inputs")
        if isinstance(inputs, str):
            try:
                inputs = json.loads(inputs)
            except ValueError:
                inputs = {}
        error = raw.get("error")
        return cls(
            id=_text(raw, "id"),
            status=_text(raw, "status"),
            inputs=inputs if isinstance(inputs, dict) else {},
            outputs=_object(raw, "outputs"),
            error=error if isinstance(error, str) else None,
            total_steps=int(_number(raw, "total_steps")),
            total_tokens=int(_number(raw, "total_tokens")),
            elapsed_time=_number(raw, "elapsed_time"),
            created_at=_number(raw, "created_at"),
            finished_at=_number(raw, "finished_at") if raw.get("finished_at") is not None else None,
            raw=raw,
        )


class _Pager:
    """What both pagers share: the page size, the cursor parameter, the ids already given."""

    cursor_param = ""

    def __init__(self, page_size: int) -> None:
        self.limit = min(max(page_size, 1), MAX_LIMIT)
        self._cursor: str | None = None
        self._done = False
        self._seen: set[str] = set()

    def _fixed(self) -> dict[str, str | int]:
        return {}

    def next_query(self) -> dict[str, str | int] | None:
        """The query of the next page, or None when the list is complete."""
        if self._done:
            return None
        query: dict[str, str | int] = {"limit": self.limit, **self._fixed()}
        if self._cursor:
            query[self.cursor_param] = self._cursor
        return query


class ConversationPager(_Pager):
    """Every conversation once, pages chained by ``last_id`` (the last item of the page before)."""

    cursor_param = "last_id"

    def __init__(self, page_size: int = MAX_LIMIT, sort_by: SortBy = "-updated_at") -> None:
        super().__init__(page_size)
        self.sort_by = sort_by

    def _fixed(self) -> dict[str, str | int]:
        return {"sort_by": self.sort_by}

    def feed(self, page: Page) -> list[Conversation]:
        """The page's conversations not given before (one renamed or updated meanwhile may come twice)."""
        fresh = [c for c in page.items if isinstance(c, Conversation) and c.id not in self._seen]
        self._seen.update(c.id for c in fresh)
        if page.has_more and page.items:
            self._cursor = page.items[-1].id
        else:
            self._done = True
        return fresh


class MessagePager(_Pager):
    """Every message of a conversation once, newest first, despite the same-second quirk.

    After each page the cursor (``first_id``) is the oldest message of the page's *second-oldest*
    second, so the next page re-reads the oldest second in full. A page all in one second gives no
    such message: the page size is raised to Dify's maximum and the page asked again; if a single
    second holds more messages than that, the rest of it cannot be reached, and ``gap`` says so.
    """

    cursor_param = "first_id"

    def __init__(self, page_size: int = MAX_LIMIT) -> None:
        super().__init__(page_size)
        #: whether messages were unreachable (more than 100 in one second): the list has a hole
        self.gap = False

    def feed(self, page: Page) -> list[Message]:
        messages = [m for m in page.items if isinstance(m, Message)]
        fresh = [m for m in messages if m.id not in self._seen]
        self._seen.update(m.id for m in fresh)
        # newest first; inside one second Dify's order is arbitrary, so keep the page's (stable sort)
        fresh.sort(key=lambda m: m.created_at, reverse=True)
        if not page.has_more or not messages:
            self._done = True
            return fresh
        oldest = min(m.created_at for m in messages)
        later = [m for m in messages if m.created_at > oldest]
        if later:
            # re-read the oldest second from the start of the next one
            self._cursor = min(later, key=lambda m: m.created_at).id
        elif len(messages) >= self.limit and self.limit < MAX_LIMIT:
            self.limit = MAX_LIMIT  # the whole page is one second: ask again, as wide as Dify allows
        else:
            if len(messages) >= self.limit:
                self.gap = True  # over 100 messages in one second: the rest of it is out of reach
            self._cursor = messages[0].id  # strictly older seconds
        return fresh
