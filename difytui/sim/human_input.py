"""Human Input forms: what a paused node asks, and ``GET|POST /v1/form/human_input/:token``.

Shapes and errors follow the captures (A03–A11, A25–A27, X01–X02, N03–N04): the GET body is
``json.dumps`` with spaces; a submit must carry every input (defaults are not applied), a select
value must be one of its options, the action must exist; a submitted form answers 412, an expired
one 412 (the simulator's clock, ``State.clock``, decides expiry).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import wire
from .api_context import Ctx
from .validation import pydantic_error

if TYPE_CHECKING:
    from .api import Api
    from .runs import Run

#: a Human Input node's default timeout in the captured apps (1 day)
TIMEOUT_SECONDS = 24 * 3600
_VAR = re.compile(r"\{\{#([A-Za-z_$][\w]*)\.([\w]+)#\}\}")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NOT_FOUND_HINT = "/v1/form/human_input/<string:form_token>"


def render(template: str, values: dict[str, Any], *, keep_outputs: bool = True) -> str:
    """Substitute ``{{#node.var#}}`` from ``values`` ("node.var" keys); ``{{#$output.x#}}`` stays
    unless ``keep_outputs`` is False (then it is filled from "$output.x")."""

    def one(m: re.Match[str]) -> str:
        key = f"{m.group(1)}.{m.group(2)}"
        if m.group(1) == "$output" and keep_outputs:
            return m.group(0)
        value = values.get(key)
        return m.group(0) if value is None else str(value)

    return _VAR.sub(one, template)


@dataclass
class Form:
    """One Human Input node's form in one paused run."""

    form_id: str
    token: str
    app_id: str
    run: Run
    node_id: str
    node_title: str
    #: the node's form_content with runtime variables unresolved (the snapshot replays this, A22)
    template: str
    #: runtime variables substituted, ``{{#$output.x#}}`` placeholders kept (events and GET)
    content: str
    inputs: list[dict]
    actions: list[dict]
    resolved: dict[str, str]
    expiration_time: int
    #: only a node delivered to the web app can be filled over the Service API (fact 1)
    display_in_ui: bool = True
    status: str = "waiting"
    submission: dict | None = field(default=None)

    def required_data(self, *, template: bool = False) -> dict:
        """``human_input_required.data`` (fact 3)."""
        return {
            "form_id": self.form_id,
            "node_id": self.node_id,
            "node_title": self.node_title,
            "form_content": self.template if template else self.content,
            "inputs": self.inputs,
            "actions": self.actions,
            "display_in_ui": self.display_in_ui,
            "form_token": self.token,
            "resolved_default_values": self.resolved,
            "expiration_time": self.expiration_time,
        }

    def reason(self, *, template: bool = False) -> dict:
        """One ``workflow_paused.data.reasons`` item (fact 4: no display_in_ui)."""
        return {
            "TYPE": "human_input_required",
            "form_id": self.form_id,
            "form_content": self.template if template else self.content,
            "inputs": self.inputs,
            "actions": self.actions,
            "node_id": self.node_id,
            "node_title": self.node_title,
            "resolved_default_values": self.resolved,
            "form_token": self.token,
            "expiration_time": self.expiration_time,
        }

    def rendered(self, inputs: dict[str, Any]) -> str:
        return render(self.content, {f"$output.{k}": v for k, v in inputs.items()}, keep_outputs=False)

    def action_title(self, action: str) -> str:
        return next(a["title"] for a in self.actions if a["id"] == action)


def new_form(run: Run, node: dict, values: dict[str, Any]) -> Form:
    """Create (and register) the form a Human Input node asks for at this point of the run."""
    state = run.state
    form_id = state.ids.new("hi-form")
    digest = hashlib.sha256(f"form-token:{form_id}".encode()).digest()
    token = "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:22])
    inputs = json.loads(json.dumps(node["inputs"]))
    resolved = {}
    for item in inputs:
        default = item.get("default") or {}
        if default.get("type") == "variable":
            resolved[item["output_variable_name"]] = str(values.get(".".join(default["selector"]), ""))
    form = Form(
        form_id=form_id,
        token=token,
        app_id=run.app_id,
        run=run,
        node_id=node["id"],
        node_title=node["title"],
        template=node["form_content"],
        content=render(node["form_content"], values),
        inputs=inputs,
        actions=[dict(a) for a in node["actions"]],
        resolved=resolved,
        expiration_time=state.clock() + node.get("timeout", TIMEOUT_SECONDS),
        display_in_ui=node.get("webapp", True),
    )
    state.forms[token] = form
    return form


# --- the routes ---------------------------------------------------------------------------------


def _form(api: Api, ctx: Ctx) -> Form | wire.Response:
    """The key's app's fillable form named in the path, or the error that ends the request."""
    token = ctx.params["token"]
    form = api.state.forms.get(token)
    if form is None or form.app_id != ctx.app_id or not form.display_in_ui:
        path = ctx.request.path
        return wire.error(
            404,
            "not_found",
            f"Form not found. You have requested this URI [{path}] but did you mean {_NOT_FOUND_HINT} ?",
        )
    if form.status == "submitted":
        return wire.error(
            412,
            "human_input_form_submitted",
            f"This form has already been submitted by another user, form_id={form.form_id}",
        )
    if api.state.clock() >= form.expiration_time:
        return wire.error(412, "human_input_form_expired", f"This form has expired, form_id={form.form_id}")
    return form


def get_form(api: Api, ctx: Ctx) -> wire.Response:
    form = _form(api, ctx)
    if isinstance(form, wire.Response):
        return form
    body = {
        "form_content": form.content,
        "inputs": form.inputs,
        "resolved_default_values": form.resolved,
        "user_actions": form.actions,
        "expiration_time": form.expiration_time,
    }
    return wire.Response(200, json.dumps(body).encode(), wire.JSON)


def _invalid(message: str) -> wire.Response:
    return wire.error(400, "invalid_form_data", message)


def submit_form(api: Api, ctx: Ctx) -> wire.Response:
    body = ctx.body
    missing = [name for name in ("inputs", "action") if name not in body]
    if missing:
        raise pydantic_error(
            "HumanInputFormSubmitPayload", [(name, "Field required", "missing", body) for name in missing]
        )
    form = _form(api, ctx)
    if isinstance(form, wire.Response):
        return form
    inputs, action = body["inputs"], body["action"]
    if not isinstance(inputs, dict):
        raise pydantic_error(
            "HumanInputFormSubmitPayload",
            [("inputs", "Input should be a valid dictionary", "dict_type", inputs)],
        )
    if action not in [a["id"] for a in form.actions]:
        return _invalid(f"Invalid action: {action}")
    absent = [i["output_variable_name"] for i in form.inputs if i["output_variable_name"] not in inputs]
    if absent:
        return _invalid("Missing required inputs: " + ", ".join(absent))
    for item in form.inputs:
        name = item["output_variable_name"]
        options = (item.get("option_source") or {}).get("value")
        if item["type"] == "select" and isinstance(inputs[name], str) and inputs[name] not in (options or []):
            return _invalid(f"Invalid value for select input '{name}': {inputs[name]}")
    # Any end user may submit (X08); ill-typed values are accepted here and fail the run (A11/A12).
    form.status = "submitted"
    form.submission = {"inputs": inputs, "action": action, "user": ctx.user}
    api.resume_run(form, inputs, action)
    return wire.ok({})
