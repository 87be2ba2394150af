"""Pending Human Input forms: the paused runs difytui knows, so a form survives a restart.

A paused run's form is recorded with its token, app and run ids (rows keyed by the caller's
workspace key, as every row of :mod:`difytui.store`; never an API key). It is listed until it is
submitted (:meth:`PendingForms.remove`) or its ``expiration_time`` passes (left out of listings,
then pruned). The console and ``difytui resume --list`` read the same rows.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from difytui.human_input import HumanInputForm
from difytui.store import Store

JSON = dict[str, Any]


@dataclass
class PendingForm:
    """One pending form and where it belongs."""

    app_id: str
    form: HumanInputForm
    task_id: str = ""
    conversation_id: str = ""
    message_id: str = ""
    created: float = 0.0

    @property
    def workflow_run_id(self) -> str:
        return self.form.workflow_run_id

    def to_dict(self) -> JSON:
        return {
            "app_id": self.app_id,
            "workflow_run_id": self.workflow_run_id,
            "task_id": self.task_id or None,
            "conversation_id": self.conversation_id or None,
            "message_id": self.message_id or None,
            "created": self.created,
            **{k: v for k, v in self.form.to_dict().items() if k != "workflow_run_id"},
        }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class PendingForms:
    """The ``pending_forms`` rows of one store."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    def record(self, ws: str, app_id: str, form: HumanInputForm, event: JSON | None = None) -> None:
        """Keep ``form`` (its ``workflow_run_id`` set); ``event``: the pause event, for the chat ids."""
        event = event or {}
        row = (
            ws,
            form.form_token,
            app_id,
            form.workflow_run_id,
            _text(event.get("task_id")) or None,
            _text(event.get("conversation_id")) or None,
            _text(event.get("message_id")) or None,
            float(form.expiration_time) if form.expiration_time is not None else None,
            json.dumps(form.to_dict(), ensure_ascii=False),
            self._clock(),
        )

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO pending_forms VALUES (?,?,?,?,?,?,?,?,?,?)", row)

        self.store.write(None, write)

    def record_pause(self, ws: str, app_id: str, events: list[JSON]) -> list[PendingForm]:
        """Record the forms a run's events end on (``human_input_required`` … ``workflow_paused``).
        Forms not fillable over the API (``display_in_ui`` false) are not kept."""
        from difytui.human_input import forms_in

        required = [f for e in events if e.get("event") == "human_input_required" for f in forms_in(e)]
        paused = next((e for e in reversed(events) if e.get("event") == "workflow_paused"), None)
        forms = required or (forms_in(paused) if paused else [])
        kept = []
        for form in forms:
            if form.form_token and form.display_in_ui:
                self.record(ws, app_id, form, paused or {})
                kept.append(PendingForm(app_id, form, created=self._clock()))
        return kept

    def pending(self, ws: str, app_id: str | None = None) -> list[PendingForm]:
        """The workspace's forms that have not expired, oldest first."""
        now = self._clock()

        def read(conn: sqlite3.Connection) -> list[PendingForm]:
            sql = "SELECT * FROM pending_forms WHERE ws = ? AND (expires IS NULL OR expires > ?)"
            args: list[Any] = [ws, now]
            if app_id is not None:
                sql += " AND app_id = ?"
                args.append(app_id)
            rows = conn.execute(sql + " ORDER BY created", args).fetchall()
            return [_pending(row) for row in rows]

        return self.store.read([], read)

    def for_run(self, ws: str, workflow_run_id: str) -> list[PendingForm]:
        return [p for p in self.pending(ws) if p.workflow_run_id == workflow_run_id]

    def remove(self, ws: str, form_token: str) -> None:
        """The form was submitted (or Dify says it was, or expired): forget it."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM pending_forms WHERE ws = ? AND form_token = ?", (ws, form_token))

        self.store.write(None, write)

    def prune(self) -> None:
        """Drop expired forms of every workspace."""
        now = self._clock()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM pending_forms WHERE expires IS NOT NULL AND expires <= ?", (now,))

        self.store.write(None, write)


def _pending(row: sqlite3.Row | tuple[Any, ...]) -> PendingForm:
    (_ws, token, app_id, run_id, task_id, conversation_id, message_id, _exp, data, created) = tuple(row)
    raw = json.loads(data)
    form = HumanInputForm.from_api(token, raw if isinstance(raw, dict) else {}, workflow_run_id=run_id)
    return PendingForm(
        app_id=app_id,
        form=form,
        task_id=task_id or "",
        conversation_id=conversation_id or "",
        message_id=message_id or "",
        created=created,
    )
