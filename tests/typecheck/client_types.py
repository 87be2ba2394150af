"""Checked by mypy (tests/test_client_types.py), never collected or run: what a script's type checker sees."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import httpx
from typing_extensions import assert_type

from difytui import AsyncDify, Dify
from difytui.client import AsyncEventStream, EventStream, ResponseMode

JSON = dict[str, Any]


def sync_client(dify: Dify, mode: ResponseMode) -> None:
    assert_type(dify.app.info("a"), JSON)
    assert_type(dify.app.resolve("Trip Planner"), str)
    assert_type(dify.app.parameters("a"), JSON)
    assert_type(dify.app.stop("a", "t"), JSON)
    assert_type(dify.app.messages("a", "c"), JSON)
    assert_type(dify.app.chat.invoke("a", "hi"), EventStream)
    assert_type(dify.app.chat.invoke("a", "hi", {}, response_mode="blocking"), JSON)
    assert_type(dify.app.workflow.invoke("a", {}), EventStream)
    assert_type(dify.app.completion.invoke("a", {}, response_mode="blocking"), JSON)
    assert_type(dify.app.workflow.invoke("a", {}, mode), EventStream | JSON)
    assert_type(dify.apps()[0].id, str)
    assert_type(Dify.from_config(), Dify)


async def async_client(dify: AsyncDify) -> None:
    pending = dify.app.info("a")
    _ = assert_type(pending, Coroutine[Any, Any, JSON])
    assert_type(await pending, JSON)
    assert_type(await dify.app.resolve("Trip Planner"), str)
    assert_type(AsyncDify.from_config(deadline=60), AsyncDify)
    assert_type(dify.app.chat.invoke("a", "hi"), AsyncEventStream)
    assert_type(await dify.app.workflow.invoke("a", {}, response_mode="blocking"), JSON)
    async for event in dify.app.completion.invoke("a", {}):
        assert_type(event, JSON)


def sync_history(dify: Dify) -> None:
    from collections.abc import Iterator

    from difytui.history import Conversation, Message, Page, Suggestions, WorkflowRunDetail

    assert_type(dify.app.conversations("a"), JSON)
    assert_type(dify.app.conversations.page("a"), Page)
    assert_type(dify.app.conversations.all("a"), Iterator[Conversation])
    assert_type(dify.app.conversations.rename("a", "c", "n"), Conversation)
    assert_type(dify.app.conversations.delete("a", "c"), None)
    assert_type(dify.app.messages.all("a", "c"), Iterator[Message])
    assert_type(dify.app.messages.feedback("a", "m", "like"), None)
    assert_type(dify.app.messages.suggested("a", "m"), Suggestions)
    assert_type(dify.app.workflow_runs.get("a", "r"), WorkflowRunDetail)


async def async_history(dify: AsyncDify) -> None:
    from collections.abc import AsyncIterator

    from difytui.history import Conversation, Message, Suggestions, WorkflowLogPage

    assert_type(dify.app.conversations.all("a"), AsyncIterator[Conversation])
    assert_type(await dify.app.conversations.rename("a", "c", auto_generate=True), Conversation)
    async for message in dify.app.messages.all("a", "c"):
        assert_type(message, Message)
    assert_type(await dify.app.messages.suggested("a", "m"), Suggestions)
    assert_type(await dify.app.workflow_runs.logs("a", status="failed"), WorkflowLogPage)


def constructors() -> None:
    """Each client takes its own transport kind (the constructor is shared, typed per client)."""
    assert_type(Dify("http://x/v1", {"a": "k"}, "u", deadline=5, transport=httpx.HTTPTransport()), Dify)
    assert_type(AsyncDify(base_url="http://x/v1", transport=httpx.AsyncHTTPTransport()), AsyncDify)
    assert_type(Dify(base_url="http://x/v1").timeout, httpx.Timeout)
    assert_type(AsyncDify(base_url="http://x/v1").deadline, float | None)
