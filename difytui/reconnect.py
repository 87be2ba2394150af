"""Re-attaching a dropped workflow or chatflow stream to its run (sans-io: no I/O here).

When the connection of a workflow/chatflow run drops after Dify named the run (``workflow_run_id``),
the streams (:mod:`difytui.streams`) open ``GET /workflow/<run_id>/events?include_state_snapshot=true``
and go on reading there. That endpoint first replays the run's state from Dify's database
(``workflow_started``, ``message_replace`` with the stored answer, ``node_started``/``node_finished`` of
every node that ran, a pending form), then relays live events from the moment it subscribed; a run
that finished meanwhile gets one ``workflow_finished`` (captures L03, L05, L11, L13, A13, A22, A28).

:class:`Reattachment` is that logic: which failures are worth re-attaching after, how long to wait
(``ReconnectPolicy``), and which replayed events the caller has already seen (dropped, so the caller
sees every event once). Text events (``message``, ``text_chunk``) are never replayed, so none is
dropped; text Dify streamed while nobody listened is lost, and a chatflow's whole answer is then
taken from ``workflow_finished.data.outputs.answer`` (``reconciled_answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from difytui.errors import DifyAPIError, DifyConnectionError, DifyError

#: Modes whose runs Dify can re-attach to (the others have no events endpoint).
REATTACHABLE_MODES = frozenset({"workflow", "advanced-chat"})
#: Replayed events that name one node execution (or the run) in ``data.id``: seen once, dropped after.
_KEYED_BY_ID = frozenset(
    {
        "workflow_started",
        "node_started",
        "node_finished",
        "iteration_started",
        "iteration_completed",
        "loop_started",
        "loop_completed",
    }
)
#: HTTP statuses of a re-attach request worth trying again (a proxy or a restarting server).
_RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class ReconnectPolicy:
    """How often and how patiently a dropped stream is re-attached.

    ``attempts``: tries after each drop (0: never re-attach); a re-attached stream that brings a new
    event starts the count again, so a long run may survive several drops but never loops on one.
    The first try goes at once (a cut proxy connection is not a busy server); the n-th waits
    ``backoff * factor**(n-2)`` seconds, at most ``max_delay``.
    """

    attempts: int = 3
    backoff: float = 0.5
    factor: float = 2.0
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.backoff < 0 or self.factor < 1 or self.max_delay < 0:
            raise DifyError(f"invalid reconnect policy: {self}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before try number ``attempt`` (from 1)."""
        if attempt <= 1:
            return 0.0
        return min(self.max_delay, self.backoff * self.factor ** (attempt - 2))


DEFAULT_POLICY = ReconnectPolicy()
#: A stream that is never re-attached.
NEVER = ReconnectPolicy(attempts=0)


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def _key(event: dict[str, Any]) -> tuple[str, str] | None:
    """What makes a replayable event the same one again: its kind and what it is about."""
    kind = event.get("event")
    if not isinstance(kind, str):
        return None
    if kind in _KEYED_BY_ID:
        ident = _data(event).get("id")
    elif kind == "human_input_required":
        ident = _data(event).get("form_id")
    else:
        return None
    return (kind, ident) if isinstance(ident, str) and ident else None


def _text(event: dict[str, Any]) -> str:
    answer = event.get("answer")
    return answer if isinstance(answer, str) else ""


class Reattachment:
    """One stream's record of what it delivered, and its re-attach decisions.

    The stream calls ``admit(event)`` for every event it decodes and yields those admitted;
    ``retry_delay(error)`` after a drop or a failed try (None: give up, raise ``gave_up(error)``);
    ``attached()`` once a re-attach request answered with a stream.
    """

    def __init__(self, mode: str, policy: ReconnectPolicy = DEFAULT_POLICY) -> None:
        self.mode = mode
        self.policy = policy
        #: the run Dify named (``workflow_run_id``): what the events endpoint needs
        self.run_id: str | None = None
        #: successful re-attachments so far
        self.count = 0
        #: a chatflow's whole answer, when a re-attached stream's ``workflow_finished`` says more (or
        #: other) than the text events delivered: text streamed while detached is never replayed
        self.reconciled_answer: str | None = None
        #: the first drop, what a caller is told about when re-attaching fails
        self.dropped: DifyError | None = None
        self._seen: set[tuple[str, str]] = set()
        self._text: list[str] = []
        self._tries = 0  # failed tries since the last drop or progress
        self._replaying = False  # reading a re-attached stream: its replay may repeat what we saw

    # -- events ----------------------------------------------------------------------------------

    def admit(self, event: dict[str, Any]) -> bool:
        """Whether to deliver ``event``: False for a replay of one already delivered."""
        if self.run_id is None:
            run_id = event.get("workflow_run_id")
            if isinstance(run_id, str) and run_id:
                self.run_id = run_id
        key = _key(event)
        kind = event.get("event")
        if self._replaying:
            if key is not None and key in self._seen:
                return False
            if kind == "message_replace" and "".join(self._text).startswith(_text(event)):
                return False  # the stored answer (``""`` while running): no more than we delivered
            self._tries = 0  # new: this stream makes progress
        if key is not None:
            self._seen.add(key)
        if kind in ("message", "agent_message"):
            self._text.append(_text(event))
        elif kind == "message_replace":
            self._text = [_text(event)]
        elif kind == "workflow_finished" and self.count:
            self._reconcile(event)
        return True

    def _reconcile(self, finished: dict[str, Any]) -> None:
        if self.mode != "advanced-chat":
            return
        outputs = _data(finished).get("outputs")
        answer = outputs.get("answer") if isinstance(outputs, dict) else None
        if isinstance(answer, str) and answer != "".join(self._text):
            self.reconciled_answer = answer

    # -- drops -----------------------------------------------------------------------------------

    def can_reattach(self, error: BaseException) -> bool:
        """Whether ``error``, ending a stream, is a drop this run can be re-attached after."""
        return (
            self.mode in REATTACHABLE_MODES
            and self.run_id is not None
            and self.policy.attempts > 0
            and isinstance(error, DifyConnectionError)
        )

    def retry_delay(self, error: BaseException) -> float | None:
        """Seconds to wait before the next re-attach try after ``error``, or None to give up.

        ``error`` is a drop (the first stream's or a re-attached one's) or a failed re-attach request.
        """
        if self._tries == 0:  # a fresh drop (first, or after a re-attached stream made progress)
            if not self.can_reattach(error):
                return None
            assert isinstance(error, DifyError)  # can_reattach checked it
            self.dropped = error
        elif not _worth_retrying(error):
            return None
        if self._tries >= self.policy.attempts:
            return None
        self._tries += 1
        self._replaying = False
        return self.policy.delay(self._tries)

    def attached(self) -> None:
        """A re-attach request answered with the run's stream: read its replay against what we saw."""
        self.count += 1
        self._replaying = True

    def gave_up(self, error: BaseException) -> BaseException:
        """What to raise once re-attaching is over: the drop, saying why re-attaching failed."""
        dropped = self.dropped
        if dropped is None or self._tries == 0:
            return error
        tries = f"{self._tries} time{'s' if self._tries != 1 else ''}"
        last = "" if error is dropped else f": {error}"
        url = dropped.url if isinstance(dropped, DifyConnectionError) else ""
        message = f"{dropped}; re-attaching to run {self.run_id} failed {tries}{last}"
        final = DifyConnectionError(message, url=url)
        final.timed_out = isinstance(dropped, DifyConnectionError) and dropped.timed_out
        return final


def _worth_retrying(error: BaseException) -> bool:
    """A failed re-attach try that another try may get past: the network, or a busy server. Not a
    timeout: it already cost the whole read timeout, and repeating it only hides a dead server."""
    if isinstance(error, DifyConnectionError):
        return not error.timed_out
    return isinstance(error, DifyAPIError) and error.status in _RETRY_STATUSES
