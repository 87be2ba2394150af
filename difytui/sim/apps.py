"""Every app the simulator serves: the demo workspace (:mod:`.app_catalog`), the Human Input apps,
their ids and keys, and the bodies of their info, parameters and site answers.

Each app is a plain dict so tests and the TUI can read it without importing anything else:
``mode``, ``name``, ``description``, ``tags``, ``author_name``, ``icon``, ``parameters`` (the full
``GET /parameters`` body) and ``hidden`` (kept out of :data:`DEMO_APPS`).
"""

from __future__ import annotations

import copy
import hashlib
import uuid

from .app_catalog import APPS
from .app_parameters import item, params
from .human_input_graphs import human_input_apps

_NS = uuid.UUID("6f1c1a4e-3c1b-4d0e-9a51-6469667974e1")

_APPS: dict[str, dict] = dict(APPS)

# Apps with Human Input nodes: the demo's approval workflow and the captured hi-* apps (hidden).
_APPS.update(human_input_apps((params, item)))

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
