"""The worker that submits a paused run's Human Input form and follows the rest of the run.

Like :mod:`difytui.tui.runner` (whose ``follow_stream`` it ends in), it only posts messages. The
listener (snapshot + continue_on_pause) is opened before the submit, so nothing the resumed run
sends is lost (fact 23 of the captures); its replay of the run so far is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from difytui.errors import (
    FormAlreadySubmittedError,
    FormExpiredError,
    FormNotFoundError,
    InvalidFormDataError,
)
from difytui.tui import messages as m
from difytui.tui.models import RunRequest
from difytui.tui.run_recording import Record, RunLog
from difytui.tui.runner import Post, describe_error, follow_stream, logged
from difytui.tui.safe_text import one_line

if TYPE_CHECKING:
    from difytui.client import AsyncDify, AsyncEventStream

#: A submit Dify refused: shown on the form (the others fail the run)
REFUSALS = (InvalidFormDataError, FormAlreadySubmittedError, FormExpiredError, FormNotFoundError)


@dataclass(frozen=True)
class FormSubmit:
    """Submit ``form_token`` with ``action`` (None: only read the run's state again), then follow
    the run ``workflow_run_id`` of ``app_id``."""

    app_id: str
    workflow_run_id: str
    form_token: str
    inputs: dict[str, str]
    action: str | None


async def resume_run(
    client: AsyncDify, job: FormSubmit, run_id: int, post: Post, record: Record | None = None
) -> None:
    """Submit and stream the rest of the run. A refused submit posts FormRefused: invalid data ends
    there; a form submitted elsewhere, expired or gone reads the run's state again. ``record`` is
    handed the events read and how it ended, however it ends (RunRecorder.resumed)."""
    log = RunLog.start(RunRequest(job.app_id, "workflow", {}))
    await logged(log, post, record, partial(_resume, client, job, run_id))


async def _resume(
    client: AsyncDify, job: FormSubmit, run_id: int, post: Post, events: list[dict[str, Any]]
) -> None:
    post(m.RunStarted(run_id, time.monotonic()))
    submitting = job.action is not None
    stream: AsyncEventStream | None = None
    try:
        stream = await client.app.events(
            job.app_id, job.workflow_run_id, include_state_snapshot=True, continue_on_pause=submitting
        )
        if job.action is not None:
            try:
                await client.app.human_input.submit(job.app_id, job.form_token, job.inputs, job.action)
            except REFUSALS as error:
                await stream.aclose()
                invalid = isinstance(error, InvalidFormDataError)
                message = error.message if invalid else str(error)
                post(m.FormRefused(run_id, job.form_token, one_line(message), invalid))
                if invalid:
                    return
                submitting = False
                stream = await client.app.events(job.app_id, job.workflow_run_id, include_state_snapshot=True)
    except Exception as error:  # DifyError, or a bug: a readable notice, never a traceback
        if stream is not None:
            await stream.aclose()
        text, code, status = describe_error(error)
        post(m.RunFailed(run_id, text, code, status, time.monotonic(), None))
        return
    await follow_stream(stream, run_id, post, events, replayed=submitting, resumed=True)
