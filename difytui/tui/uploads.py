"""A run's local files, uploaded before the run by the worker (``AsyncDify.app.upload``), so the
pane can show the progress of the big ones; the run then sends Dify's file mappings.

The client would upload ``Path`` values itself, but without a word until the run starts: a 50 MB
video on a slow link looked like a hung console.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difytui.tui import messages as m
from difytui.tui.models import RunRequest

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.tui.runner import Post

#: Files over this many bytes show their upload's progress.
PROGRESS_FROM = 1024 * 1024
#: …in steps of this share of the file (a message per httpx chunk would be hundreds).
STEP = 0.02


async def upload_files(client: AsyncDify, request: RunRequest, run_id: int, post: Post) -> RunRequest:
    """``request`` with every local file (a ``Path`` input value or ``files`` item) uploaded and
    replaced by its file mapping; raises the client's errors."""
    inputs: dict[str, Any] = {}
    for name, value in request.inputs.items():
        if isinstance(value, Path):
            value = await _upload(client, request.app_id, value, run_id, post)
        elif isinstance(value, list):
            value = [
                await _upload(client, request.app_id, v, run_id, post) if isinstance(v, Path) else v
                for v in value
            ]
        inputs[name] = value
    files = [
        await _upload(client, request.app_id, f, run_id, post) if isinstance(f, Path) else f
        for f in request.files
    ]
    return dataclasses.replace(request, inputs=inputs, files=files)


async def _upload(client: AsyncDify, app_id: str, path: Path, run_id: int, post: Post) -> dict[str, Any]:
    shown = -1.0  # the share of the file last reported

    def progress(sent: int, total: int) -> None:
        nonlocal shown
        share = sent / total if total else 1.0
        if total > PROGRESS_FROM and (share - shown >= STEP or sent == total):
            shown = share
            post(m.UploadProgress(run_id, path.name, sent, total))

    return await client.app.upload(app_id, path, progress)
