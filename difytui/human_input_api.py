"""``client.app.human_input`` (read and submit forms) and the flow behind ``client.app.events``.

As in :mod:`difytui.app_api`, each call hands a sans-io flow to the client's driver: ``Dify``
returns the result, ``AsyncDify`` a coroutine of it. Dify's errors come back typed
(:class:`~difytui.errors.FormNotFoundError`, :class:`~difytui.errors.FormAlreadySubmittedError`,
:class:`~difytui.errors.FormExpiredError`, :class:`~difytui.errors.InvalidFormDataError`).

Resuming a run without losing events (fact 23 of the captures): open
``app.events(app_id, run_id, include_state_snapshot=True, continue_on_pause=True)`` first, then
``app.human_input.submit(...)``, then read the stream: it replays the run so far, then carries the
resumed run live up to ``workflow_finished`` (or the next form's ``workflow_paused`` is passed
through and the stream goes on). A chatflow's resumed text may be incomplete (Dify 1.14.2 drops the
Answer after the pause): take the answer from ``workflow_finished.data.outputs.answer``.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from difytui._http import Call
from difytui.errors import (
    DifyAPIError,
    DifyError,
    FormAlreadySubmittedError,
    FormExpiredError,
    FormNotFoundError,
    InvalidFormDataError,
)
from difytui.human_input import HumanInputForm

if TYPE_CHECKING:
    from difytui._http import Flow
    from difytui.async_client import AsyncDify
    from difytui.flows import ClientCore, RunOutcome
    from difytui.sync_client import Dify

C = TypeVar("C", bound="ClientCore[Any, Any]")
T = TypeVar("T")
Async = Coroutine[Any, Any, T]
#: App modes whose runs Dify can re-attach to (GET /workflow/:run_id/events)
EVENT_MODES = ("workflow", "advanced-chat")
#: The events after which a re-attached stream has nothing more (continue_on_pause: not the pause;
#: Dify never closes that stream itself when it has no snapshot, fact 18, so the client does)
EVENTS_TERMINALS = frozenset({"workflow_finished", "workflow_paused", "error"})
CONTINUE_TERMINALS = frozenset({"workflow_finished", "error"})


def _typed(flow: Flow[T], form_token: str) -> Flow[T]:
    """``flow`` with Dify's form errors raised as their own types."""
    try:
        return (yield from flow)
    except DifyAPIError as error:
        if error.status == 404 and error.message.startswith("Form not found"):
            raise FormNotFoundError(form_token, error) from None
        if error.code == "human_input_form_submitted":
            raise FormAlreadySubmittedError(form_token, error) from None
        if error.code == "human_input_form_expired":
            raise FormExpiredError(form_token, error) from None
        if error.code == "invalid_form_data":
            raise InvalidFormDataError(form_token, error) from None
        raise


def form_flow(core: ClientCore[Any, Any], app_id: str, form_token: str) -> Flow[HumanInputForm]:
    yield from core._backend.known_flow(core, app_id)
    call = Call("GET", core._backend.form_path(app_id, form_token), app_id)
    body: dict[str, Any] = yield from _typed(core._read_flow(call), form_token)
    return HumanInputForm.from_api(form_token, body)


def submit_flow(
    core: ClientCore[Any, Any], app_id: str, form_token: str, inputs: Mapping[str, Any], action: str
) -> Flow[None]:
    if not action:
        raise DifyError("a form is submitted with one of its actions (e.g. approve)")
    yield from core._backend.known_flow(core, app_id)
    body: dict[str, Any] = {"inputs": dict(inputs), "action": action}
    if core._backend.sends_user:
        body["user"] = core.user
    call = Call("POST", core._backend.form_path(app_id, form_token), app_id, json=body)
    yield from _typed(core._call_flow(call), form_token)


def events_flow(
    core: ClientCore[Any, Any],
    app_id: str,
    workflow_run_id: str,
    include_state_snapshot: bool,
    continue_on_pause: bool,
) -> Flow[RunOutcome]:
    """Open the run's event stream; returns (the open response, the app's mode)."""
    info = yield from core._info_flow(app_id)
    mode = str(info.get("mode"))
    if mode not in EVENT_MODES:
        raise DifyError(
            f"app {app_id!r} is {mode!r}: only workflow and chatflow runs can be re-attached "
            "(Dify has no events endpoint for other apps)"
        )
    params: dict[str, Any] = {}
    if include_state_snapshot:
        params["include_state_snapshot"] = "true"
    if continue_on_pause:
        params["continue_on_pause"] = "true"
    call = Call("GET", core._backend.events_path(app_id, workflow_run_id), app_id, params=params, stream=True)
    response = yield from core._call_flow(call)
    return response, mode


def events_terminals(continue_on_pause: bool) -> frozenset[str]:
    return CONTINUE_TERMINALS if continue_on_pause else EVENTS_TERMINALS


class HumanInputAPI(Generic[C]):
    """``client.app.human_input``: read and submit a paused run's Human Input form."""

    def __init__(self, client: C) -> None:
        self._client = client

    @overload
    def get(self: HumanInputAPI[Dify], app_id: str, form_token: str) -> HumanInputForm: ...
    @overload
    def get(self: HumanInputAPI[AsyncDify], app_id: str, form_token: str) -> Async[HumanInputForm]: ...
    def get(self, app_id: str, form_token: str) -> HumanInputForm | Async[HumanInputForm]:
        """The form as Dify shows it now (its Markdown with runtime values filled in)."""
        return self._client._run_blocking(lambda: form_flow(self._client, app_id, form_token))

    @overload
    def submit(
        self: HumanInputAPI[Dify], app_id: str, form_token: str, inputs: Mapping[str, Any], action: str
    ) -> None: ...
    @overload
    def submit(
        self: HumanInputAPI[AsyncDify], app_id: str, form_token: str, inputs: Mapping[str, Any], action: str
    ) -> Async[None]: ...
    def submit(
        self, app_id: str, form_token: str, inputs: Mapping[str, Any], action: str
    ) -> Async[None] | None:
        """Submit the form with ``action`` (an action id). Dify wants every input, as strings for
        paragraph and select fields (defaults are not applied for you: see ``prefill()``). The run
        resumes asynchronously: read it with ``app.events`` (opened before this call)."""
        return self._client._run_blocking(
            lambda: submit_flow(self._client, app_id, form_token, inputs, action)
        )
