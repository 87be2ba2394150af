"""``app.human_input`` and ``app.events`` over loopback (issue 12): pause, read the form, submit it and
follow the resumed run, in both clients. The listener is opened before each submit (fact 23), so the
tests wait on events only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from difytui.client import AsyncDify, Dify
from difytui.errors import (
    DifyError,
    FormAlreadySubmittedError,
    FormExpiredError,
    FormNotFoundError,
    InvalidFormDataError,
)
from difytui.human_input import HumanInputForm, forms_in

APPS = ("hi-wf", "hi-wf-two", "hi-chat", "hi-chat-plain", "hi-wf-nodeliv", "support-bot")
GOOD = {"note": "ship it", "choice": "b", "ref": "JIRA-7"}


class Client:
    """The same calls on Dify or AsyncDify (``kind``), each run to its end."""

    def __init__(self, kind: str, sim: Any) -> None:
        self.kind = kind
        apps = {app_id: sim.api_keys[app_id] for app_id in APPS}
        self.sync = Dify(base_url=sim.base_url, apps=apps, user="hi-user")
        self.aio = AsyncDify(base_url=sim.base_url, apps=apps, user="hi-user")
        self.loop = asyncio.new_event_loop()

    def call(self, pick: Callable[[Any], Any]) -> Any:
        if self.kind == "sync":
            result = pick(self.sync)
            return list(result) if hasattr(result, "__next__") else result
        return self.loop.run_until_complete(self._acall(pick))

    async def _acall(self, pick: Callable[[Any], Any]) -> Any:
        result = pick(self.aio)
        if hasattr(result, "__aiter__"):
            return [e async for e in result]
        return await result

    def start(self, app: str, value: str = "Q3 budget") -> list[dict]:
        if app.startswith("hi-chat"):
            return self.call(lambda c: c.app.chat.invoke(app, "need approval", {"city": value}))
        return self.call(lambda c: c.app.workflow.invoke(app, {"topic": value}))

    def resume(self, app: str, run_id: str, token: str, inputs: dict, action: str) -> list[dict]:
        """Listen (snapshot + continue_on_pause), then submit, then read the rest."""
        kw = {"include_state_snapshot": True, "continue_on_pause": True}
        if self.kind == "sync":
            stream = self.sync.app.events(app, run_id, **kw)
            self.sync.app.human_input.submit(app, token, inputs, action)
            return list(stream)

        async def go() -> list[dict]:
            stream = await self.aio.app.events(app, run_id, **kw)
            await self.aio.app.human_input.submit(app, token, inputs, action)
            return [e async for e in stream]

        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.sync.close()
        self.loop.run_until_complete(self.aio.close())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def client(request, sim):
    c = Client(request.param, sim)
    yield c
    c.close()


def names(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


def paused_form(events: list[dict]) -> HumanInputForm:
    (form,) = forms_in(events[-2])
    assert events[-1]["event"] == "workflow_paused"
    return form


def test_a_workflow_pauses_and_resumes_to_its_outputs(client):
    events = client.start("hi-wf")
    form = paused_form(events)
    assert form.form_token and form.workflow_run_id == events[-1]["workflow_run_id"]
    got = client.call(lambda c: c.app.human_input.get("hi-wf", form.form_token))
    assert got.form_content.startswith("Please review **Q3 budget**.")
    assert got.placeholders() == ["note", "choice", "ref"]
    assert got.prefill() == {"note": "looks good", "choice": "", "ref": "Q3 budget"}
    assert [a.id for a in got.actions] == ["approve", "reject"] and got.inputs[1].options == ("a", "b")
    resumed = client.resume("hi-wf", form.workflow_run_id, form.form_token, GOOD, "approve")
    assert names(resumed)[-1] == "workflow_finished"
    filled = next(e for e in resumed if e["event"] == "human_input_form_filled")
    assert filled["data"]["action_id"] == "approve"
    assert resumed[-1]["data"]["outputs"]["note"] == "ship it"


def test_a_chatflow_resume_carries_the_final_answer(client):
    """The plain graph streams its answer; the hi-chat graph's resumed text is incomplete (fact 22),
    and workflow_finished.outputs.answer holds the whole answer."""
    for app, city in (("hi-chat-plain", "Oslo"), ("hi-chat", "Berlin")):
        events = client.start(app, city)
        form = paused_form(events)
        inputs = {"note": "fine", "choice": "a", "ref": "X-1"}
        resumed = client.resume(app, form.workflow_run_id, form.form_token, inputs, "approve")
        answer = resumed[-1]["data"]["outputs"]["answer"]
        assert answer.endswith(f"after-resume: city={city} note=fine choice=a ref=X-1 action=approve")
        streamed = "".join(e["answer"] for e in resumed if e["event"] == "message")
        assert (streamed == answer) is (app == "hi-chat-plain")
        assert "message_end" in names(resumed)


def test_two_forms_in_a_row(client):
    """One listener across both pauses (E08); the second form's default is the first one's note."""
    form = paused_form(client.start("hi-wf-two"))
    kw = {"include_state_snapshot": True, "continue_on_pause": True}
    seen: list[dict] = []

    def see(event: dict) -> HumanInputForm | None:
        seen.append(event)
        if event["event"] == "human_input_required" and event["data"]["node_id"] == "hi2":
            second = forms_in(event)[0]
            assert second.prefill() == {"comment": "ship it"}
            return second
        return None

    if client.kind == "sync":
        stream = client.sync.app.events("hi-wf-two", form.workflow_run_id, **kw)
        client.sync.app.human_input.submit("hi-wf-two", form.form_token, GOOD, "approve")
        for event in stream:
            if (second := see(event)) is not None:
                client.sync.app.human_input.submit("hi-wf-two", second.form_token, {"comment": "ok"}, "ok")
    else:

        async def go() -> None:
            stream = await client.aio.app.events("hi-wf-two", form.workflow_run_id, **kw)
            await client.aio.app.human_input.submit("hi-wf-two", form.form_token, GOOD, "approve")
            async for event in stream:
                if (second := see(event)) is not None:
                    await client.aio.app.human_input.submit(
                        "hi-wf-two", second.form_token, {"comment": "ok"}, "ok"
                    )

        client.loop.run_until_complete(go())
    assert names(seen).count("workflow_paused") == 2 and seen[-1]["event"] == "workflow_finished"
    assert seen[-1]["data"]["outputs"] == {"note": "ship it", "comment": "ok", "action": "ok"}


def test_each_submit_error_is_typed(client, sim):
    form = paused_form(client.start("hi-wf"))
    token = form.form_token

    def submit(inputs: dict, action: str) -> Any:
        return client.call(lambda c: c.app.human_input.submit("hi-wf", token, inputs, action))

    with pytest.raises(InvalidFormDataError, match="Missing required inputs: choice, ref"):
        submit({"note": "n"}, "approve")
    with pytest.raises(InvalidFormDataError, match="Invalid value for select input 'choice': c"):
        submit({**GOOD, "choice": "c"}, "approve")
    with pytest.raises(InvalidFormDataError, match="Invalid action: maybe"):
        submit(GOOD, "maybe")
    with pytest.raises(FormNotFoundError):
        client.call(lambda c: c.app.human_input.get("hi-wf", "doesNotExist123"))
    with pytest.raises(DifyError, match="one of its actions"):
        submit(GOOD, "")
    assert submit(GOOD, "reject") is None
    with pytest.raises(FormAlreadySubmittedError) as err:
        submit(GOOD, "approve")
    assert err.value.status == 412 and "already been submitted" in err.value.message
    with pytest.raises(FormAlreadySubmittedError):
        client.call(lambda c: c.app.human_input.get("hi-wf", token))

    later = paused_form(client.start("hi-wf"))
    sim.state.clock = lambda: (later.expiration_time or 0) + 1
    with pytest.raises(FormExpiredError):
        client.call(lambda c: c.app.human_input.get("hi-wf", later.form_token))
    with pytest.raises(FormExpiredError):
        submit_later = later.form_token
        client.call(lambda c: c.app.human_input.submit("hi-wf", submit_later, GOOD, "approve"))


def test_a_form_not_delivered_to_the_web_app_is_not_found(client):
    events = client.start("hi-wf-nodeliv")
    required = forms_in(events[-2])[0]
    assert required.display_in_ui is False
    with pytest.raises(FormNotFoundError):
        client.call(lambda c: c.app.human_input.get("hi-wf-nodeliv", required.form_token))


def test_events_of_a_finished_run_and_of_a_paused_one(client):
    done = client.start("hi-wf")
    form = paused_form(done)
    client.resume("hi-wf", form.workflow_run_id, form.form_token, GOOD, "approve")
    run_id = form.workflow_run_id
    finished = client.call(lambda c: c.app.events("hi-wf", run_id, include_state_snapshot=True))
    assert names(finished) == ["workflow_finished"] and finished[0]["task_id"] == run_id

    paused = paused_form(client.start("hi-wf"))
    replay = client.call(lambda c: c.app.events("hi-wf", paused.workflow_run_id, include_state_snapshot=True))
    assert names(replay)[0] == "workflow_started" and names(replay)[-1] == "workflow_paused"
    with pytest.raises(DifyError, match="only workflow and chatflow runs"):
        client.call(lambda c: c.app.events("support-bot", run_id))


def test_the_account_api_re_attaches_and_reads_forms(sim, make_api):
    """An account workspace uses /apps/<id>/tasks/<run_id>/events and /apps/<id>/form/human_input."""
    from helpers import account_workspace, device_login

    login = device_login(sim)
    api = make_api(workspace=account_workspace(sim, login), token=login.token.reveal())
    workflow = next(app.id for app in api("apps") if app.mode == "workflow")
    result = api(
        "app.workflow.invoke", workflow, {"topic": "SSE", "audience": "everyone"}, response_mode="blocking"
    )
    run_id = result["workflow_run_id"]
    events = api("app.events", workflow, run_id, include_state_snapshot=True)
    assert names(events) == ["workflow_finished"] and events[0]["data"]["status"] == "succeeded"
    with pytest.raises(FormNotFoundError):
        api("app.human_input.get", workflow, "doesNotExist123")
    assert sim.requests[-1].path == f"/openapi/v1/apps/{workflow}/form/human_input/doesNotExist123"


def test_a_chat_history_gives_back_the_pending_form(client):
    from difytui.human_input import forms_in_message

    events = client.start("hi-chat-plain", "Oslo")
    form = paused_form(events)
    conversation = events[-1]["conversation_id"]
    (message,) = client.call(lambda c: c.app.messages("hi-chat-plain", conversation))["data"]
    (pending,) = forms_in_message(message)
    assert (pending.form_token, pending.workflow_run_id) == (form.form_token, form.workflow_run_id)
    client.resume("hi-chat-plain", form.workflow_run_id, form.form_token, GOOD, "approve")
    (message,) = client.call(lambda c: c.app.messages("hi-chat-plain", conversation))["data"]
    assert forms_in_message(message) == []
