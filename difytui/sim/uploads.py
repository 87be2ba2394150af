"""``/files/upload`` for both APIs: parse the multipart form, check it as Dify does, keep the file.

Uploads are kept in :attr:`~.state.State.uploads`, where run inputs and ``files`` find them.
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from . import wire
from .state import State, now
from .validation import file_type_for

if TYPE_CHECKING:
    from .api import Api
    from .api_context import Ctx
    from .server import Request

_SIZE_LIMITS_MB = {"image": 10, "video": 100, "audio": 50}
#: The Service API's workspace (an end user's upload names it as its tenant)
SERVICE_TENANT_ID = "7d0e8f3a-2c1b-4e5d-9a6f-6469667974e1"


def upload(api: Api, ctx: Ctx) -> wire.Response:
    """The Service API's route: the file belongs to the form's ``user`` (an end user of the app)."""
    return store_upload(
        api.state,
        ctx.request,
        created_by=lambda user: api.state.end_user_id(ctx.app_id, user),
        tenant_id=SERVICE_TENANT_ID,
    )


def store_upload(
    state: State, request: Request, created_by: Callable[[str], str], tenant_id: str
) -> wire.Response:
    """Check and keep the request's file; ``created_by`` maps the form's user to the owner id."""
    ctype = request.headers.get("content-type", "")
    files, fields = _parse_multipart(ctype, request.body)
    if "file" not in [name for name, *_ in files]:
        return wire.error(400, "no_file_uploaded", "Please upload your file.")
    if len(files) > 1:
        return wire.error(400, "too_many_files", "Only one file is allowed.")
    _, filename, mime, data = files[0]
    if not filename:
        return wire.error(400, "filename_not_exists_error", "The specified filename does not exist.")
    if not mime:
        return wire.error(415, "unsupported_file_type", "File type not allowed.")
    if "/" in filename or "\\" in filename:
        raise ValueError("Filename contains invalid characters")
    limit = _SIZE_LIMITS_MB.get(file_type_for(filename), 15)
    if len(data) > limit * 1024 * 1024:
        return wire.error(413, "file_too_large", "")
    user = fields.get("user") or "DEFAULT-USER"
    file_id = state.ids.new("upload")
    ts = now()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    record = {
        "id": file_id,
        "reference": None,
        "name": filename,
        "size": len(data),
        "extension": ext,
        "mime_type": mime,
        "created_by": created_by(user),
        "created_at": ts,
        "preview_url": None,
        "source_url": f"http://127.0.0.1/files/{file_id}/file-preview?timestamp={ts}"
        f"&nonce=0d6a3c9e1f2b4a58&sign=c2ltdWxhdGVk",
        "original_url": None,
        "user_id": None,
        "tenant_id": tenant_id,
        "conversation_id": None,
        "file_key": None,
    }
    state.uploads[file_id] = {**record, "user": user, "data": data}
    return wire.ok(record, status=201)


#: (form field, filename, mime type, content) of each file part
_FilePart = tuple[str, str, str, bytes]


def _parse_multipart(content_type: str, body: bytes) -> tuple[list[_FilePart], dict[str, str]]:
    """([(field, filename, mime, bytes)], {field: text}) via the stdlib email parser."""
    if not content_type.lower().startswith("multipart/form-data"):
        return [], {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    files: list[_FilePart] = []
    fields: dict[str, str] = {}
    if not msg.is_multipart():
        return [], {}
    for part in msg.iter_parts():
        # Form-data parameters are plain strings and a leaf part's decoded payload is bytes.
        name = cast(str, part.get_param("name", header="content-disposition"))
        filename = cast("str | None", part.get_param("filename", header="content-disposition"))
        payload = cast("bytes | None", part.get_payload(decode=True)) or b""
        if filename is None:
            fields[name] = payload.decode("utf-8", "replace")
            continue
        mime = part.get_content_type() if "content-type" in part else ""
        files.append((name, filename, mime, payload))
    return files, fields
