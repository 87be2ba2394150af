"""The account API's app routes: list a workspace's apps and describe one (info, form, schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .apps import form_fields, parameters_body
from .openapi_responses import error, invalid, json_response
from .runs import CHAT_MODES
from .validation import is_uuid
from .workspace import iso

if TYPE_CHECKING:
    from . import wire
    from .device_flow import AccountToken
    from .openapi import OpenApi
    from .server import Request

_LIST_MODES = (
    "completion",
    "workflow",
    "chat",
    "advanced-chat",
    "agent-chat",
    "agent",
    "channel",
    "rag-pipeline",
)
_FIELDS = ("info", "parameters", "input_schema")
_FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "transfer_method": {"type": "string", "enum": ["local_file", "remote_url"]},
        "url": {"type": "string"},
        "upload_file_id": {"type": "string"},
    },
}
#: a 422 detail: (type, loc, msg)
_Detail = tuple[str, list[str], str]


def apps(oa: OpenApi, req: Request, token: AccountToken) -> wire.Response:
    q = req.query
    ws = oa.dir.workspace(q.get("workspace_id"))
    if ws is None:
        return error(404, "not_found", "workspace not found")
    errors: list[_Detail] = []
    page = _query_int(q, "page", 1, 1, None, errors)
    limit = _query_int(q, "limit", 20, 1, 200, errors)
    mode = q.get("mode") or None
    if mode is not None and mode not in _LIST_MODES:
        errors.append(("enum", ["query", "mode"], f"Input should be {_or_list(_LIST_MODES)}"))
    if errors:
        return invalid(errors)
    limit = min(limit, 100, oa.sim.max_page_size)  # the service layer caps at 100
    found = [a for a in oa.dir.apps_in(ws.id) if a.enable_api]
    if mode:
        found = [a for a in found if a.mode == mode]
    name = (q.get("name") or "")[:30]
    if is_uuid(name):
        found = [a for a in found if a.uuid == name.lower()]
    elif name:
        found = [a for a in found if name.lower() in a.definition["name"].lower()]
    if q.get("tag"):
        found = [a for a in found if q["tag"] in a.definition["tags"]]
    chunk = found[(page - 1) * limit : page * limit]
    data = [
        {
            "id": a.uuid,
            "name": a.definition["name"],
            "description": a.definition["description"],
            "mode": a.mode,
            "tags": [{"name": t} for t in a.definition["tags"]],
            "updated_at": iso(a.created_at),
            "created_by_name": oa.dir.account["name"],
            "workspace_id": ws.id,
            "workspace_name": ws.name,
        }
        for a in chunk
    ]
    return json_response(
        {
            "page": page,
            "limit": limit,
            "total": len(found),
            "has_more": page * limit < len(found),
            "data": data,
        }
    )


def describe(oa: OpenApi, req: Request, token: AccountToken, app: str) -> wire.Response:
    raw = req.query.get("fields")
    wanted = [f.strip() for f in raw.split(",") if f.strip()] if raw else list(_FIELDS)
    unknown = [f for f in wanted if f not in _FIELDS]
    if unknown:
        return invalid([("value_error", ["query", "fields"], f"unknown field: {unknown[0]}")])
    record = oa.app_record(app)
    d = record.definition
    info = {
        "id": record.uuid,
        "name": d["name"],
        "description": d["description"],
        "mode": record.mode,
        "author": d["author_name"],
        "tags": [{"name": t} for t in d["tags"]],
        "updated_at": iso(record.created_at),
        "service_api_enabled": record.enable_api,
        "is_agent": record.mode in ("agent-chat", "advanced-chat"),
    }
    blocks = {"info": info, "parameters": parameters_body(d), "input_schema": input_schema(d)}
    return json_response({name: blocks[name] if name in wanted else None for name in _FIELDS})


def input_schema(app: dict) -> dict:
    """A JSON Schema for the run body, built from the app's form like Dify's describe."""
    properties: dict[str, Any] = {}
    required = []
    for kind, spec in form_fields(app):
        if kind == "external_data_tool":
            continue
        var = spec["variable"]
        title = spec.get("label") or var
        if kind in ("text-input", "paragraph"):
            prop: dict[str, Any] = {"type": "string", "title": title}
            if spec.get("max_length"):
                prop["maxLength"] = spec["max_length"]
        elif kind == "select":
            prop = {"type": "string", "title": title, "enum": list(spec.get("options") or [])}
        elif kind == "number":
            prop = {"type": "number", "title": title}
        elif kind == "checkbox":
            prop = {"type": "boolean", "title": title}
        elif kind == "file":
            prop = {**_FILE_SCHEMA, "title": title}
        elif kind == "file-list":
            prop = {"type": "array", "title": title, "items": _FILE_SCHEMA}
        else:  # json_object
            prop = {"type": "object", "title": title}
        properties[var] = prop
        if spec.get("required"):
            required.append(var)
    inputs = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    top: dict[str, Any] = {}
    mode = app["mode"]
    if mode in CHAT_MODES:
        top["query"] = {"type": "string", "minLength": 1}
    elif mode == "completion":
        top["query"] = {"type": "string"}
    top["inputs"] = inputs
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": top,
        "required": ["query", "inputs"] if mode in CHAT_MODES else ["inputs"],
    }


def _query_int(
    q: dict[str, str], name: str, default: int, lo: int, hi: int | None, errors: list[_Detail]
) -> int:
    raw = q.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(("int_parsing", ["query", name], "Input should be a valid integer"))
        return default
    if value < lo:
        errors.append(
            ("greater_than_equal", ["query", name], f"Input should be greater than or equal to {lo}")
        )
    elif hi is not None and value > hi:
        errors.append(("less_than_equal", ["query", name], f"Input should be less than or equal to {hi}"))
    return value


def _or_list(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
