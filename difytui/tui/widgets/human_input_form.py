"""A paused run's Human Input form, shown in place in the pane's log (issue 12).

The form's Markdown is cut at its ``{{#$output.x#}}`` placeholders and each one is the field it
stands for (a :class:`FieldRow`, as in the app's own form); inputs the Markdown does not mention
follow it. Each action is a button with a key (F5…F8: :data:`difytui.tui.keys.FORM_ACTIONS`).
Pressing one posts :class:`HumanInputFormView.Submitted`; the pane does the rest (the widget never
talks to Dify). Server text is data: Markdown goes through ``clean``, labels are plain Text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Static

from difytui.forms import Field
from difytui.human_input import PLACEHOLDER, FormInput, HumanInputForm
from difytui.tui.keys import FORM_ACTIONS
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.form_row import FieldRow
from difytui.tui.widgets.line_piece import MarkdownLines

NOT_HERE = (
    "This form is not delivered to the web app (display_in_ui is off): it can't be filled from "
    "here. Answer it where Dify sends it (e-mail, console)."
)


def field_for(item: FormInput) -> Field:
    """A form row's :class:`Field` for a Human Input field. None is marked required: Dify checks
    the values and its message shows on the field it names (``show_refusal``)."""
    raw = item.raw
    types = raw.get("allowed_file_types")
    extensions = raw.get("allowed_file_extensions")
    limit = raw.get("number_limits")
    return Field(
        variable=item.name,
        label=item.name,
        control=item.type if item.type in ("paragraph", "select", "file", "file-list") else "paragraph",
        options=item.options,
        max_length=limit if isinstance(limit, int) and limit > 0 else None,
        allowed_file_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
        allowed_file_extensions=tuple(str(e) for e in extensions) if isinstance(extensions, list) else (),
    )


def content_parts(form: HumanInputForm) -> list[str | FormInput]:
    """``form_content`` as Markdown chunks and the inputs its placeholders stand for, in order;
    inputs it never mentions come last. An unknown placeholder stays as text."""
    by_name = {i.name: i for i in form.inputs}
    parts: list[str | FormInput] = []
    placed: set[str] = set()
    rest = 0
    for match in PLACEHOLDER.finditer(form.form_content):
        item = by_name.get(match.group(1))
        if item is None or item.name in placed:
            continue
        parts.append(form.form_content[rest : match.start()])
        parts.append(item)
        placed.add(item.name)
        rest = match.end()
    parts.append(form.form_content[rest:])
    parts.extend(i for i in form.inputs if i.name not in placed)
    return [p for p in parts if not isinstance(p, str) or p.strip()]


class HumanInputFormView(Vertical):
    """One pending form; ``state`` is pending → sending → submitted (or refused, back to pending)."""

    BINDINGS: ClassVar[list[BindingType]] = list(FORM_ACTIONS)

    class Submitted(Message):
        """An action was pressed: the values of every field (strings, as Dify wants them)."""

        def __init__(self, view: HumanInputFormView, action: str, values: dict[str, str]) -> None:
            super().__init__()
            self.view = view
            self.action = action
            self.values = values

    def __init__(self, app_id: str, form: HumanInputForm, *, restored: bool = False, **kwargs: Any) -> None:
        super().__init__(classes="hi-form", **kwargs)
        self.app_id = app_id
        self.form = form
        self.restored = restored
        self.state = "pending"
        self._rows: dict[str, FieldRow] = {}

    def compose(self) -> ComposeResult:
        form = self.form
        title = Text("⏸ ", style="bold yellow")
        title.append(one_line(form.node_title) or "Human Input", style="bold")
        title.append("  the run waits for this form", style="dim")
        if self.restored:
            run = one_line(form.workflow_run_id)[:8]
            title.append(f"  (run {run}…, from an earlier session)", style="dim")
        yield Static(title, classes="hi-title", markup=False)
        if not form.display_in_ui:
            yield Static(Text(NOT_HERE, style="italic"), classes="hi-not-here", markup=False)
            return
        prefill = form.prefill()
        for index, part in enumerate(content_parts(form)):
            if isinstance(part, str):
                yield MarkdownLines(clean(part), classes="hi-text")
            else:
                row = FieldRow(field_for(part), 1000 + index, prefill.get(part.name, ""))
                self._rows[part.name] = row
                yield row
        yield Static("", classes="hi-error", markup=False)
        with Horizontal(classes="hi-actions"):
            for number, action in enumerate(form.actions[: len(FORM_ACTIONS)]):
                key = FORM_ACTIONS[number].key.upper()
                label = Content.assemble((f"{key} ", "dim"), one_line(action.title))
                variant = "primary" if action.button_style == "primary" else "default"
                yield Button(label, id=f"hi-action-{number}", variant=variant, compact=True)

    @property
    def rows(self) -> dict[str, FieldRow]:
        return self._rows

    def first_control(self) -> Widget | None:
        for row in self._rows.values():
            return row.control
        buttons = list(self.query(Button))
        return buttons[0] if buttons else None

    def values(self) -> dict[str, str]:
        """Every field's text (Dify applies no defaults: each input is sent)."""
        return {name: row.raw() or "" for name, row in self._rows.items()}

    def check(self) -> bool:
        """The rows' own checks (file types, limits); errors shown on their fields."""
        ok = True
        for row in self._rows.values():
            _values, error = row.check()
            row.show_error(error)
            ok = ok and error is None
        return ok

    def show_refusal(self, message: str) -> None:
        """Dify's message on the fields it names (``Missing required inputs: a, b``), else above
        the buttons; the form can be sent again."""
        self.state = "pending"
        named = [row for name, row in self._rows.items() if _names(message, name)]
        for row in named:
            row.show_error(message)
        self.say(message if not named else "", error=True)
        self.disabled = False

    def say(self, text: str, *, error: bool = False) -> None:
        line = self.query(".hi-error").first(Static)
        line.update(Text(f"✗ {one_line(text)}" if error and text else one_line(text)))
        line.set_class(error, "-error")
        line.display = bool(text)

    def sending(self, action: str) -> None:
        self.state = "sending"
        title = next((a.title for a in self.form.actions if a.id == action), action)
        self.say(f"sending “{title}”…")
        self.disabled = True

    def done(self, note: str) -> None:
        """Submitted (here or elsewhere) or gone: the form stays as a record, read-only."""
        self.state = "submitted"
        self.say(note)
        self.disabled = True
        self.add_class("-done")

    def action_form_action(self, number: int) -> None:
        """F5…F8: the form's first…fourth action."""
        self._press(number)

    @on(Button.Pressed, ".hi-actions Button")
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self._press(int(str(event.button.id).rsplit("-", 1)[1]))

    def _press(self, number: int) -> None:
        if self.state != "pending" or not self.form.display_in_ui or number >= len(self.form.actions):
            return
        if not self.check():
            self.say("check the fields marked ✗", error=True)
            return
        self.post_message(self.Submitted(self, self.form.actions[number].id, self.values()))


def _names(message: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) is not None
