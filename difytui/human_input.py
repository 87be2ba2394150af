"""Human Input forms: what a paused workflow or chatflow asks a person (Dify 1.13+).

A run that reaches a Human Input node sends ``human_input_required`` then ``workflow_paused`` and
stops streaming. :class:`HumanInputForm` is that form, read from either event, from a blocking
answer's ``reasons`` or from ``GET /form/human_input/:token``. It knows how to prefill its fields
(``resolved_default_values``, else the constant default: fact 7 of the captures) and which
``{{#$output.x#}}`` placeholders its Markdown holds. Library only: no I/O here (see
:mod:`difytui.human_input_api` for the calls).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
#: ``{{#$output.name#}}`` in ``form_content``: where the field ``name`` goes
PLACEHOLDER = re.compile(r"\{\{#\$output\.([A-Za-z_][\w]*)#\}\}")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dicts(value: object) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class FormInput:
    """One field: ``paragraph``, ``select`` (``options``), ``file`` or ``file-list``."""

    name: str
    type: str
    #: the constant default ("" when there is none or it comes from a variable)
    default: str = ""
    options: tuple[str, ...] = ()
    #: the field as Dify sent it (file fields' allowed types, extensions, number_limits…)
    raw: JSON = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, item: JSON) -> FormInput:
        default = _dict(item.get("default"))
        constant = _str(default.get("value")) if default.get("type") == "constant" else ""
        values = _dict(item.get("option_source")).get("value")
        values = values if isinstance(values, list) else []
        return cls(
            name=_str(item.get("output_variable_name")),
            type=_str(item.get("type")) or "paragraph",
            default=constant,
            options=tuple(str(v) for v in values),
            raw=dict(item),
        )


@dataclass(frozen=True)
class FormAction:
    """A button: ``id`` is what a submit sends, ``title`` what a person reads."""

    id: str
    title: str
    button_style: str = "default"


@dataclass
class HumanInputForm:
    """A pending Human Input form. ``form_token`` is what :meth:`get` and :meth:`submit` take."""

    form_token: str
    form_content: str
    inputs: list[FormInput]
    actions: list[FormAction]
    resolved_default_values: dict[str, str] = field(default_factory=dict)
    #: unix seconds after which the form can no longer be submitted (None: not said)
    expiration_time: int | None = None
    #: False: the node is not delivered to the web app, so the API cannot fill it (fact 1)
    display_in_ui: bool = True
    form_id: str = ""
    node_id: str = ""
    node_title: str = ""
    workflow_run_id: str = ""

    @classmethod
    def from_api(cls, form_token: str, body: JSON, **known: Any) -> HumanInputForm:
        """From ``GET /form/human_input/:token`` (``user_actions``), a ``human_input_required``
        event's ``data`` or a ``workflow_paused`` reason (``actions``). ``known`` fills fields
        the body lacks (``workflow_run_id``…)."""
        actions = _dicts(body.get("user_actions")) or _dicts(body.get("actions"))
        resolved = body.get("resolved_default_values")
        expires = body.get("expiration_time")
        values: dict[str, Any] = {
            "form_token": form_token or _str(body.get("form_token")),
            "form_content": _str(body.get("form_content")),
            "inputs": [FormInput.from_api(i) for i in _dicts(body.get("inputs"))],
            "actions": [
                FormAction(_str(a.get("id")), _str(a.get("title")), _str(a.get("button_style")) or "default")
                for a in actions
            ],
            "resolved_default_values": {str(k): str(v) for k, v in resolved.items()}
            if isinstance(resolved, dict)
            else {},
            "expiration_time": int(expires) if isinstance(expires, (int, float)) else None,
            "display_in_ui": body.get("display_in_ui") is not False,
            "form_id": _str(body.get("form_id")),
            "node_id": _str(body.get("node_id")),
            "node_title": _str(body.get("node_title")),
        }
        values.update(known)
        return cls(**values)

    def prefill(self) -> dict[str, str]:
        """Each field's starting value: the server-resolved default, else the constant one, else ""."""
        return {i.name: self.resolved_default_values.get(i.name, i.default) for i in self.inputs}

    def placeholders(self) -> list[str]:
        """The field names ``form_content`` shows as ``{{#$output.name#}}``, in order."""
        return PLACEHOLDER.findall(self.form_content)

    def action(self, action_id: str) -> FormAction | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def expired(self, now: float | None = None) -> bool:
        if self.expiration_time is None:
            return False
        return (time.time() if now is None else now) >= self.expiration_time

    def to_dict(self) -> JSON:
        """A JSON-ready summary (the CLI prints it; the pending-forms store keeps it)."""
        return {
            "form_token": self.form_token,
            "workflow_run_id": self.workflow_run_id,
            "form_id": self.form_id,
            "node_id": self.node_id,
            "node_title": self.node_title,
            "form_content": self.form_content,
            "inputs": [i.raw or {"output_variable_name": i.name, "type": i.type} for i in self.inputs],
            "actions": [{"id": a.id, "title": a.title, "button_style": a.button_style} for a in self.actions],
            "resolved_default_values": dict(self.resolved_default_values),
            "expiration_time": self.expiration_time,
            "display_in_ui": self.display_in_ui,
        }


def forms_in(event: JSON) -> list[HumanInputForm]:
    """The forms an event (or a blocking answer) asks for: a ``human_input_required`` event's one,
    or every ``human_input_required`` reason of a ``workflow_paused`` event or paused answer."""
    data = _dict(event.get("data"))
    run_id = _str(event.get("workflow_run_id")) or _str(data.get("workflow_run_id"))
    if event.get("event") == "human_input_required":
        return [HumanInputForm.from_api("", data, workflow_run_id=run_id)]
    reasons = [r for r in _dicts(data.get("reasons")) if r.get("TYPE") == "human_input_required"]
    return [HumanInputForm.from_api("", r, workflow_run_id=run_id) for r in reasons]


def forms_in_message(message: JSON) -> list[HumanInputForm]:
    """The pending forms of a chat message from ``GET /messages`` (its ``extra_contents`` of type
    ``human_input`` not yet submitted, fact 24): how a chat's history restores a paused turn."""
    forms = []
    for item in _dicts(message.get("extra_contents")):
        definition = _dict(item.get("form_definition"))
        token = _str(definition.get("form_token"))
        if item.get("type") == "human_input" and not item.get("submitted") and token:
            forms.append(
                HumanInputForm.from_api(token, definition, workflow_run_id=_str(item.get("workflow_run_id")))
            )
    return forms
