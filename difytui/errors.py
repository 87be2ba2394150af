"""Exceptions raised by the difytui library.

Every failure a user can meet is one of these, with a message that reads well on its own
(the CLI prints ``str(exc)``; the TUI shows it in a notice). None of them ever carries an API key.
"""

from __future__ import annotations


class DifyError(Exception):
    """Base class of every difytui error."""

    #: The task that difytui stopped on the server because of this error (a run given up), if any.
    stopped_task: str | None = None


class ConfigError(DifyError):
    """The configuration file or environment is unusable.

    ``path`` and ``line`` locate the problem when they are known; ``str()`` gives ``file:line: message``.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class AppNotFoundError(DifyError):
    """An app id that the active workspace does not have."""

    def __init__(self, app_id: str, workspace: str, known: list[str]) -> None:
        self.app_id = app_id
        self.workspace = workspace
        self.known = list(known)
        have = ", ".join(sorted(known)) if known else "no apps"
        super().__init__(f"app {app_id!r} is not in workspace {workspace!r} (it has: {have})")


class AmbiguousAppError(AppNotFoundError):
    """An app name that several apps of the workspace have: no single app goes by it.

    ``candidates`` are ``(app id, name)`` pairs; the message names each, so the id can be used.
    """

    def __init__(self, name: str, workspace: str, candidates: list[tuple[str, str]]) -> None:
        self.app_id = name
        self.workspace = workspace
        self.known = [app_id for app_id, _ in candidates]
        self.candidates = list(candidates)
        listed = ", ".join(f"{app_id} ({app_name})" for app_id, app_name in candidates)
        message = f"{len(candidates)} apps in workspace {workspace!r} are named {name!r}: {listed}"
        DifyError.__init__(self, message + "; give the app id")


class DifyAPIError(DifyError):
    """Dify answered with an error status (or an unreadable body).

    ``status`` is the HTTP status, ``code`` Dify's error code (``""`` when the body was not Dify's JSON),
    ``message`` Dify's message or a short excerpt of the body.
    """

    def __init__(self, status: int, code: str, message: str, *, url: str = "", hint: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.url = url
        #: what to do about it, where that is clear (a Service API 401: check the app's key)
        self.hint = hint
        self.retry_after: float | None = None
        label = f"{status} {code}".strip()
        super().__init__(f"Dify error {label}: {message}" + (f" ({hint})" if hint else ""))


class DifyConnectionError(DifyError):
    """The server could not be reached, timed out, or cut the connection."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        self.timed_out = False
        super().__init__(message)


class DifyProtocolError(DifyError):
    """The server sent something that is not Dify's protocol (e.g. an event that is not JSON)."""


class DifyDeadlineError(DifyError):
    """A run outlasted its deadline (``deadline`` in the config or the client's constructor).

    difytui stopped it on the server when Dify had named its task (``stopped_task``); a stream not
    named by then is read ``waited`` seconds more for the event that names it.
    """

    def __init__(
        self, seconds: float, url: str, task_id: str | None, stopped: bool, waited: float = 0.0
    ) -> None:
        self.seconds = seconds
        self.url = url
        self.task_id = task_id
        if stopped:
            self.stopped_task = task_id
            outcome = f"it was stopped on the server (task {task_id})"
        elif task_id:
            outcome = f"stopping task {task_id} on the server failed"
        elif waited:
            outcome = (
                f"Dify did not name its task within {waited:g} s more either, so it could not be "
                "stopped: it may still be running on the server"
            )
        else:
            outcome = "Dify had not named its task yet, so it could not be stopped"
        super().__init__(f"the run at {url} did not finish within its {seconds:g} s deadline; {outcome}")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl+C during a blocking run: raised instead of the plain ``KeyboardInterrupt``, after difytui
    stopped the run on the server (``stopped``) when Dify had named its task (``task_id``)."""

    def __init__(self, task_id: str | None, stopped: bool) -> None:
        self.task_id = task_id
        self.stopped = stopped
        super().__init__()


class ConversationNotFoundError(DifyAPIError):
    """Dify has no such conversation for this user: deleted (here or elsewhere), another user's, or
    never there. A chat sent with its id would silently start a new conversation (Dify does that)."""

    def __init__(self, conversation_id: str, error: DifyAPIError) -> None:
        super().__init__(error.status, error.code, error.message, url=error.url)
        self.conversation_id = conversation_id
        Exception.__init__(self, f"conversation {conversation_id} no longer exists on the server (deleted?)")


class MessageNotFoundError(DifyAPIError):
    """Dify has no such message for this user (its conversation deleted, or another user's)."""

    def __init__(self, message_id: str, error: DifyAPIError) -> None:
        super().__init__(error.status, error.code, error.message, url=error.url)
        self.message_id = message_id
        Exception.__init__(self, f"message {message_id} no longer exists on the server")


class HumanInputError(DifyAPIError):
    """A Human Input form could not be read or submitted (``form_token`` names it). The subclasses
    say why; ``message`` keeps Dify's own words."""

    def __init__(self, form_token: str, error: DifyAPIError, text: str) -> None:
        super().__init__(error.status, error.code, error.message, url=error.url)
        self.form_token = form_token
        Exception.__init__(self, text)


class FormNotFoundError(HumanInputError):
    """No form with this token for this app: unknown, another app's, or one that is not delivered
    to the web app (``display_in_ui`` false: it cannot be filled over the API)."""

    def __init__(self, form_token: str, error: DifyAPIError) -> None:
        super().__init__(
            form_token, error, "form not found (unknown token, another app's form, or not fillable here)"
        )


class FormAlreadySubmittedError(HumanInputError):
    """The form was submitted already (here or elsewhere, by anyone): the run has moved on."""

    def __init__(self, form_token: str, error: DifyAPIError) -> None:
        super().__init__(form_token, error, "this form has already been submitted")


class FormExpiredError(HumanInputError):
    """The form's ``expiration_time`` passed: it can no longer be read or submitted."""

    def __init__(self, form_token: str, error: DifyAPIError) -> None:
        super().__init__(form_token, error, "this form has expired")


class InvalidFormDataError(HumanInputError):
    """Dify refused the submitted values or action; ``message`` is Dify's reason (e.g. "Missing
    required inputs: choice, ref", "Invalid value for select input 'choice': c")."""

    def __init__(self, form_token: str, error: DifyAPIError) -> None:
        super().__init__(form_token, error, f"the form was not accepted: {error.message}")
