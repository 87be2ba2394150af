"""The demo workspace: one app per mode, whose forms together use every control type, and a grader.

The grader (a chat app) is the test bench's judge in the demo: see :func:`.content.grade`.

Each app is a plain dict so tests and the TUI can read it without importing anything else:
``mode``, ``name``, ``description``, ``tags``, ``author_name``, ``icon``, ``parameters`` (the full
``GET /parameters`` body) and ``hidden`` (kept out of :data:`DEMO_APPS`).
"""

from __future__ import annotations

import copy
import hashlib
import uuid

from .human_input_graphs import human_input_apps

_NS = uuid.UUID("6f1c1a4e-3c1b-4d0e-9a51-6469667974e1")

_SYSTEM_PARAMETERS = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
    "workflow_file_upload_limit": 10,
}

_IMAGE_UPLOAD = {
    "enabled": True,
    "allowed_file_types": ["image"],
    "allowed_file_extensions": [],
    "allowed_file_upload_methods": ["local_file", "remote_url"],
    "number_limits": 3,
    "image": {
        "enabled": True,
        "number_limits": 3,
        "detail": "high",
        "transfer_methods": ["local_file", "remote_url"],
    },
}


def _params(form, *, workflow, opening=None, questions=(), file_upload=None, retriever=False):
    """A ``/parameters`` body in the shape Dify builds for easy-UI (workflow=False) or graph apps."""
    return {
        "opening_statement": opening if (opening or workflow) else "",
        "suggested_questions": list(questions),
        "suggested_questions_after_answer": {"enabled": False},
        "speech_to_text": {"enabled": False},
        "text_to_speech": {"enabled": False, "voice": "", "language": ""},
        "retriever_resource": {"enabled": retriever},
        "annotation_reply": {"enabled": False},
        "more_like_this": {"enabled": False},
        "user_input_form": form,
        "sensitive_word_avoidance": (
            {"enabled": False} if workflow else {"enabled": False, "type": "", "config": {}}
        ),
        "file_upload": file_upload
        if file_upload is not None
        else ({} if workflow else {"image": {"enabled": False, "number_limits": 3}}),
        "system_parameters": dict(_SYSTEM_PARAMETERS),
    }


def _item(kind: str, workflow: bool, **fields):
    # Workflow apps wrap each start-node variable as {type: variable}, so `type` is repeated inside.
    inner = {"type": kind, **fields} if workflow else dict(fields)
    return {kind: inner}


_FILE_METHODS = ["local_file", "remote_url"]

_APPS: dict[str, dict] = {
    "support-bot": {
        "mode": "chat",
        "name": "Support Bot",
        "description": "Answers questions about difytui and Dify, with sources.",
        "tags": ["support", "demo"],
        "icon": "🛟",
        "parameters": _params(
            [
                _item(
                    "select",
                    False,
                    label="Product",
                    variable="product",
                    required=True,
                    options=["difytui", "Dify Cloud", "Self-hosted Dify"],
                    default="difytui",
                ),
                _item(
                    "text-input",
                    False,
                    label="Your name",
                    variable="customer_name",
                    required=False,
                    max_length=48,
                    default="",
                    hide=False,
                ),
                _item(
                    "external_data_tool",
                    False,
                    label="Account status",
                    variable="account_status",
                    enabled=True,
                    type="api",
                    config={"api_based_extension_id": "c1d4f6a2-4b9e-4f0a-8d2b-7a1e0c9b3f55"},
                    required=False,
                    icon="/console/api/workspaces/current/tool-provider/builtin/api/icon",
                    icon_background="#FFEAD5",
                ),
            ],
            workflow=False,
            opening="Hi! I'm the support bot. Ask me anything about difytui — café hours excepted ☕.",
            questions=[
                "How do I add an app?",
                "What does --demo do?",
                "Where are my conversations stored?",
            ],
            retriever=True,
        ),
    },
    "travel-agent": {
        "mode": "agent-chat",
        "name": "Travel Agent",
        "description": "An agent that looks things up with tools before it answers.",
        "tags": ["agent", "demo"],
        "icon": "🧭",
        "parameters": _params(
            [
                _item(
                    "paragraph",
                    False,
                    label="Travel preferences",
                    variable="preferences",
                    required=False,
                    max_length=500,
                    default="",
                ),
                _item(
                    "number",
                    False,
                    label="Trip length (days)",
                    variable="days",
                    required=False,
                    default=3,
                ),
                _item(
                    "checkbox",
                    False,
                    label="Budget mode",
                    variable="budget_mode",
                    required=False,
                    default=False,
                ),
            ],
            workflow=False,
            opening="Where to? I'll check the weather and sights for you.",
            questions=["Plan a weekend in Kyoto", "Is Lisbon rainy in May?"],
        ),
    },
    "trip-planner": {
        "mode": "advanced-chat",
        "name": "Trip Planner",
        "description": "Chatflow: Start → LLM → Answer, tailored to a city.",
        "tags": ["chatflow", "demo"],
        "icon": "🗺️",
        "parameters": _params(
            [
                _item(
                    "text-input",
                    True,
                    label="City",
                    variable="city",
                    required=True,
                    max_length=48,
                    options=[],
                    placeholder="e.g. Kyōto",
                    hint="The city the whole conversation is about.",
                ),
                _item(
                    "select",
                    True,
                    label="Season",
                    variable="season",
                    required=False,
                    options=["spring", "summer", "autumn", "winter"],
                    default="spring",
                ),
                _item(
                    "file",
                    True,
                    label="Inspiration photo",
                    variable="photo",
                    required=False,
                    allowed_file_types=["image"],
                    allowed_file_extensions=[],
                    allowed_file_upload_methods=_FILE_METHODS,
                ),
            ],
            workflow=True,
            opening="Bonjour! Tell me what you'd like to do in your city and I'll plan it. 🗺️",
            questions=["What should I eat?", "Plan a rainy day", "Three must-see places?"],
            file_upload=_IMAGE_UPLOAD,
        ),
    },
    "report-builder": {
        "mode": "workflow",
        "name": "Report Builder",
        "description": "Workflow: splits a topic into sections, drafts each one, assembles a report.",
        "tags": ["workflow", "demo"],
        "icon": "📊",
        "parameters": _params(
            [
                _item(
                    "text-input",
                    True,
                    label="Topic",
                    variable="topic",
                    required=True,
                    max_length=80,
                    options=[],
                    placeholder="What should the report be about?",
                ),
                _item(
                    "paragraph",
                    True,
                    label="Notes",
                    variable="notes",
                    required=False,
                    max_length=2000,
                    options=[],
                    placeholder="Anything the report must mention",
                ),
                _item(
                    "select",
                    True,
                    label="Audience",
                    variable="audience",
                    required=True,
                    options=["engineers", "managers", "everyone"],
                    default="everyone",
                ),
                _item(
                    "number",
                    True,
                    label="Sections",
                    variable="sections",
                    required=False,
                    default=3,
                    options=[],
                    # Dify's number inputs have no range: the hint says what the demo does.
                    hint="How many sections to draft (the demo writes up to 6)",
                ),
                _item(
                    "checkbox",
                    True,
                    label="Include code samples",
                    variable="include_code",
                    required=False,
                    default=True,
                    options=[],
                ),
                _item(
                    "file-list",
                    True,
                    label="Attachments",
                    variable="attachments",
                    required=False,
                    max_length=3,
                    options=[],
                    allowed_file_types=["document", "image"],
                    allowed_file_extensions=[],
                    allowed_file_upload_methods=_FILE_METHODS,
                ),
                _item(
                    "json_object",
                    True,
                    label="Metadata",
                    variable="metadata",
                    required=False,
                    options=[],
                    json_schema=(
                        '{"type":"object","properties":{"owner":{"type":"string"},'
                        '"priority":{"type":"integer"}}}'
                    ),
                ),
            ],
            workflow=True,
        ),
    },
    "copywriter": {
        "mode": "completion",
        "name": "Copywriter",
        "description": "Writes product copy in the tone you pick.",
        "tags": ["writing", "demo"],
        "icon": "✍️",
        "parameters": _params(
            [
                _item(
                    "text-input",
                    False,
                    label="Product name",
                    variable="product_name",
                    required=True,
                    max_length=40,
                    default="",
                ),
                _item(
                    "paragraph",
                    False,
                    label="What is it?",
                    variable="brief",
                    required=True,
                    max_length=1000,
                    default="",
                ),
                _item(
                    "select",
                    False,
                    label="Tone",
                    variable="tone",
                    required=False,
                    options=["friendly", "formal", "playful"],
                    default="friendly",
                ),
            ],
            workflow=False,
            file_upload={"image": {"enabled": False, "number_limits": 3}},
        ),
    },
    # The test bench's judge: PASS or FAIL by a fixed rule (content.grade), no model involved.
    "grader": {
        "mode": "chat",
        "name": "Grader",
        "description": 'Grades an answer: PASS when it has every "quoted" keyword of the rubric.',
        "tags": ["testing", "demo"],
        "icon": "⚖️",
        "parameters": _params(
            [
                _item(
                    "paragraph",
                    False,
                    label="Rubric",
                    variable="rubric",
                    required=False,
                    max_length=2000,
                    default="",
                ),
                _item(
                    "paragraph",
                    False,
                    label="Answer to grade",
                    variable="answer",
                    required=False,
                    max_length=20000,
                    default="",
                ),
            ],
            workflow=False,
            opening='Send a rubric that quotes keywords ("like this"), a blank line, then the answer.',
        ),
    },
    # Benchmark helper: a chat app whose stream is N pre-encoded message events.
    "bench-stream": {
        "mode": "chat",
        "name": "Bench Stream",
        "description": "Sends `events` message events as fast as possible (benchmarks).",
        "tags": ["hidden"],
        "icon": "⏱️",
        "hidden": True,
        "parameters": _params(
            [_item("number", False, label="Events", variable="events", required=False, default=50000)],
            workflow=False,
        ),
    },
}

# Apps with Human Input nodes: the demo's approval workflow and the captured hi-* apps (hidden).
_APPS.update(human_input_apps((_params, _item)))

for _app_id, _app in _APPS.items():
    _app.setdefault("hidden", False)
    _app.setdefault("author_name", "Demo Team")
    _app["uuid"] = str(uuid.uuid5(_NS, "app:" + _app_id))
    _app["workflow_id"] = str(uuid.uuid5(_NS, "workflow:" + _app_id))

#: Every app the simulator serves, hidden ones included.
ALL_APPS: dict[str, dict] = _APPS

#: The demo workspace as users see it (hidden helper apps left out).
DEMO_APPS: dict[str, dict] = {k: v for k, v in _APPS.items() if not v["hidden"]}

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def api_key_for(app_id: str) -> str:
    """A deterministic ``app-`` + 24 alphanumerics key, stable across runs (throwaway demo keys)."""
    digest = hashlib.sha256(f"difytui-sim:{app_id}".encode()).digest()
    return "app-" + "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:24])


def info_body(app: dict) -> dict:
    return {
        "name": app["name"],
        "description": app["description"],
        "tags": list(app["tags"]),
        "mode": app["mode"],
        "author_name": app["author_name"],
    }


def parameters_body(app: dict) -> dict:
    return copy.deepcopy(app["parameters"])


def site_body(app: dict) -> dict:
    return {
        "title": app["name"],
        "chat_color_theme": None,
        "chat_color_theme_inverted": False,
        "icon_type": "emoji",
        "icon": app["icon"],
        "icon_background": "#FFEAD5",
        "description": app["description"],
        "copyright": None,
        "privacy_policy": None,
        "custom_disclaimer": "",
        "default_language": "en-US",
        "show_workflow_steps": True,
        "use_icon_as_answer_icon": False,
        "icon_url": None,
    }


def form_fields(app: dict) -> list[tuple[str, dict]]:
    """(control type, definition) pairs of the app's form, in order."""
    return [next(iter(item.items())) for item in app["parameters"]["user_input_form"]]
