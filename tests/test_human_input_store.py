"""Pending Human Input forms survive a restart: recorded from a paused run's events, listed per
workspace, removed once submitted, left out once expired (issue 12)."""

from __future__ import annotations

from difytui.client import Dify
from difytui.human_input_store import PendingForms
from difytui.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def paused_events(sim, app: str = "hi-wf") -> list[dict]:
    with Dify(base_url=sim.base_url, apps={app: sim.api_keys[app]}, user="u") as client:
        if app.startswith("hi-chat"):
            return list(client.app.chat.invoke(app, "approve?", {"city": "Oslo"}))
        return list(client.app.workflow.invoke(app, {"topic": "Q3"}))


def test_a_paused_run_is_recorded_listed_and_removed(sim, tmp_path):
    events = paused_events(sim, "hi-chat-plain")
    clock = Clock()
    db = tmp_path / "state.db"
    with Store(db) as store:
        kept = PendingForms(store, clock).record_pause("ws", "hi-chat-plain", events)
    assert len(kept) == 1
    with Store(db) as store:  # a restart
        forms = PendingForms(store, clock)
        (pending,) = forms.pending("ws")
        assert pending.app_id == "hi-chat-plain" and pending.workflow_run_id == events[-1]["workflow_run_id"]
        assert pending.conversation_id == events[-1]["conversation_id"]
        assert pending.form.form_token == kept[0].form.form_token
        assert pending.form.prefill() == {"note": "looks good", "choice": "", "ref": "Oslo"}
        assert forms.pending("other-ws") == [] and forms.pending("ws", "hi-wf") == []
        forms.remove("ws", pending.form.form_token)
        assert forms.pending("ws") == []


def test_expired_forms_are_not_listed_and_forms_not_fillable_here_are_not_kept(sim):
    clock = Clock()
    with Store() as store:
        forms = PendingForms(store, clock)
        (kept,) = forms.record_pause("ws", "hi-wf", paused_events(sim))
        assert forms.pending("ws")
        clock.now = float(kept.form.expiration_time or 0)
        assert forms.pending("ws") == []
        forms.prune()
        clock.now = 0
        assert forms.pending("ws") == []  # gone for good
        assert forms.record_pause("ws", "hi-wf-nodeliv", paused_events(sim, "hi-wf-nodeliv")) == []
