"""Apps with Human Input nodes: their graphs and app definitions (the script is in
:mod:`.human_input_script`).

The hidden ``hi-*`` apps copy the captured ones (README of captures/human-input-history): the same
graphs, forms and texts, so tests compare against real bytes. ``approval`` is the demo's own: a
workflow that drafts an announcement and waits for a person to approve or reject it.

A graph is a list of nodes run in order: ``start``, ``answer`` (chat text; ``template`` with
``{{#node.var#}}`` references), ``human-input`` (a form; the run pauses there) and ``end``
(workflow outputs; ``stream`` is its streamed text template).
"""

from __future__ import annotations

from typing import Any

_REVIEW = (
    "Please review **{{#start.%s#}}**.\n\nNote: {{#$output.note#}}\n\nChoice: {{#$output.choice#}}"
    "\n\nRef: {{#$output.ref#}}"
)


def _review(subject: str, *, webapp: bool = True) -> dict:
    """The captured apps' Human Input node ``hi`` (README: "The Human Input node in all hi-* apps")."""
    return {
        "type": "human-input",
        "id": "hi",
        "title": "Review",
        "webapp": webapp,
        "form_content": _REVIEW % subject,
        "inputs": [
            {
                "output_variable_name": "note",
                "type": "paragraph",
                "default": {"type": "constant", "selector": [], "value": "looks good"},
            },
            {
                "output_variable_name": "choice",
                "type": "select",
                "option_source": {"type": "constant", "selector": [], "value": ["a", "b"]},
            },
            {
                "output_variable_name": "ref",
                "type": "paragraph",
                "default": {"type": "variable", "selector": ["start", subject], "value": ""},
            },
        ],
        "actions": [
            {"id": "approve", "title": "Approve", "button_style": "primary"},
            {"id": "reject", "title": "Reject", "button_style": "default"},
        ],
    }


_HI_WF_END = {
    "type": "end",
    "stream": "{{#start.topic#}}\n{{#hi.note#}}\n{{#hi.choice#}}\n{{#hi.ref#}}\n{{#hi.__action_id#}}\n"
    "{{#hi.__action_value#}}",
    "outputs": {
        "topic": "start.topic",
        "note": "hi.note",
        "choice": "hi.choice",
        "ref": "hi.ref",
        "action": "hi.__action_id",
        "action_title": "hi.__action_value",
    },
}
_AFTER = {
    "type": "answer",
    "id": "answer",
    "title": "Answer",
    "template": "after-resume: city={{#start.city#}} note={{#hi.note#}} choice={{#hi.choice#}} "
    "ref={{#hi.ref#}} action={{#hi.__action_id#}}",
}
_SECOND = {
    "type": "human-input",
    "id": "hi2",
    "title": "Second review",
    "webapp": True,
    "form_content": "Second look at **{{#start.topic#}}**.\n\nComment: {{#$output.comment#}}",
    "inputs": [
        {
            "output_variable_name": "comment",
            "type": "paragraph",
            "default": {"type": "variable", "selector": ["hi", "note"], "value": ""},
        }
    ],
    "actions": [{"id": "ok", "title": "OK", "button_style": "primary"}],
}
_APPROVAL_FORM = {
    "type": "human-input",
    "id": "approval",
    "title": "Approve the announcement",
    "webapp": True,
    "form_content": "Draft announcement for **{{#start.topic#}}**:\n\n> {{#start.topic#}} ships this "
    "week. Thanks to everyone who helped!\n\nReviewer's note: {{#$output.note#}}",
    "inputs": [
        {
            "output_variable_name": "note",
            "type": "paragraph",
            "default": {"type": "constant", "selector": [], "value": "Looks good to me."},
        }
    ],
    "actions": [
        {"id": "approve", "title": "Approve", "button_style": "primary"},
        {"id": "reject", "title": "Reject", "button_style": "default"},
    ],
}

#: app id → (mode, name, description, start variable, graph, hidden)
GRAPHS: dict[str, tuple[str, str, str, str, list[dict], bool]] = {
    "approval": (
        "workflow",
        "Approval",
        "Workflow with a human step: drafts an announcement, waits for approve or reject.",
        "topic",
        [
            {"type": "start"},
            _APPROVAL_FORM,
            {
                "type": "end",
                "stream": "Decision: {{#approval.__action_value#}}\nNote: {{#approval.note#}}",
                "outputs": {
                    "topic": "start.topic",
                    "decision": "approval.__action_id",
                    "note": "approval.note",
                },
            },
        ],
        False,  # the demo's own: a new user sees a whole Human Input flow without a server
    ),
    "hi-wf": (
        "workflow",
        "HI Workflow",
        "Start → Human Input → End",
        "topic",
        [{"type": "start"}, _review("topic"), _HI_WF_END],
        True,
    ),
    "hi-wf-nodeliv": (
        "workflow",
        "HI Workflow (no web app delivery)",
        "hi-wf without webapp delivery",
        "topic",
        [{"type": "start"}, _review("topic", webapp=False), _HI_WF_END],
        True,
    ),
    "hi-wf-two": (
        "workflow",
        "HI Workflow, two forms",
        "Start → Human Input → Human Input → End",
        "topic",
        [
            {"type": "start"},
            _review("topic"),
            _SECOND,
            {
                "type": "end",
                "outputs": {"note": "hi.note", "comment": "hi2.comment", "action": "hi2.__action_id"},
            },
        ],
        True,
    ),
    "hi-chat": (
        "advanced-chat",
        "HI Chat",
        "Start → Answer → Human Input → Answer (the resumed-text bug)",
        "city",
        [
            {"type": "start"},
            {
                "type": "answer",
                "id": "pre",
                "title": "Answer pre",
                "template": "pre-pause: {{#sys.query#}} @ {{#start.city#}}. ",
            },
            _review("city"),
            _AFTER,
        ],
        True,
    ),
    "hi-chat-plain": (
        "advanced-chat",
        "HI Chat (plain)",
        "Start → Human Input → Answer",
        "city",
        [{"type": "start"}, _review("city"), _AFTER],
        True,
    ),
}


def human_input_apps(base_params: Any) -> dict[str, dict]:
    """The app definitions (:mod:`.apps` shape), built with :mod:`.app_parameters` (params, item)."""
    params, item = base_params
    apps: dict[str, dict] = {}
    for app_id, (mode, name, description, var, graph, hidden) in GRAPHS.items():
        form = [
            item(
                "text-input",
                True,
                label=var.capitalize(),
                variable=var,
                required=True,
                max_length=80,
                options=[],
            )
        ]
        apps[app_id] = {
            "mode": mode,
            "name": name,
            "description": description,
            "tags": ["hidden"] if hidden else ["approval", "demo"],
            "icon": "✅",
            "hidden": hidden,
            "graph": graph,
            "parameters": params(form, workflow=True),
        }
    return apps
