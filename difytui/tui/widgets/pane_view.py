"""The widget every app pane builds on: header, form, log, stats and raw events.

It loads the app's form (a worker of :mod:`difytui.tui.runner`), fills it with the remembered
inputs, and collects and remembers what was sent. :class:`~difytui.tui.widgets.pane.AppPane` adds
the run keys and what the runs' messages show; subclasses add the interface-specific parts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from difytui.form_files import SizeLimits
from difytui.forms import Field, defaults, parse_form
from difytui.models import Interface
from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.models import AppItem, PaneContext
from difytui.tui.safe_text import clean, one_line
from difytui.tui.widgets.app_list import badge_text
from difytui.tui.widgets.form import FormView
from difytui.tui.widgets.raw_events import RawEvents
from difytui.tui.widgets.response_log import Notice, ResponseLog
from difytui.tui.widgets.stats import StatsLine


class PaneView(Vertical):
    """An app pane's widgets and its form; the runs are :class:`AppPane`'s."""

    interface: ClassVar[Interface]

    def __init__(self, item: AppItem, ctx: PaneContext, **kwargs: Any) -> None:
        super().__init__(classes=f"app-pane -{self.interface}", **kwargs)
        self.item = item
        self.ctx = ctx
        self.parameters: dict[str, Any] = {}
        self.fields: list[Field] | None = None
        self.form: FormView | None = None
        self.want_focus = False
        self._params_error: str | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title = Text(one_line(self.item.name) or self.item.id, style="bold")
        title.append("  ")
        title.append_text(badge_text(self.item.mode))
        title.append(f"  {one_line(self.item.id)}", style="dim")
        yield Static(title, classes="pane-title", markup=False)
        if self.item.description:
            yield Static(Text(one_line(self.item.description)), classes="pane-desc", markup=False)
        with Collapsible(title=Content("Inputs"), collapsed=False, id="inputs"):
            yield Static(Text("loading the form…", style="italic"), id="form-status", markup=False)
        yield from self.compose_controls()
        with Horizontal(classes="pane-body"):
            yield ResponseLog(id="log")
            yield RawEvents(id="raw")
        yield StatsLine(id="stats")
        yield from self.compose_bottom()

    def compose_controls(self) -> ComposeResult:
        yield from ()

    def compose_bottom(self) -> ComposeResult:
        yield from ()

    @property
    def log_view(self) -> ResponseLog:
        return self.query_one("#log", ResponseLog)

    @property
    def raw(self) -> RawEvents:
        return self.query_one("#raw", RawEvents)

    @property
    def stats(self) -> StatsLine:
        return self.query_one("#stats", StatsLine)

    def on_mount(self) -> None:
        self.stats.display = False
        self.raw.display = False
        self.load_parameters()

    # -- the form -------------------------------------------------------------------------------

    def load_parameters(self) -> None:
        self._params_error = None
        self.query_one("#form-status", Static).update(Text("loading the form…", style="italic"))
        self.run_worker(
            runner.load_parameters(self.ctx.client, self.item.id, self.post_message),
            name="loading the form",
            group="params",
            exclusive=True,
            exit_on_error=False,
        )

    @on(m.ParametersLoaded)
    async def _parameters_loaded(self, message: m.ParametersLoaded) -> None:
        self.parameters = message.parameters
        self.fields = parse_form(message.parameters)
        remembered = {**self.ctx.store.inputs(self.ctx.ws_key, self.item.id), **self.ctx.draft}
        known = {f.variable for f in self.fields}
        values = {**defaults(self.fields), **{k: v for k, v in remembered.items() if k in known}}
        self.form = FormView(self.fields, values, SizeLimits.of(message.parameters), id="form")
        contents = self.query_one("#inputs", Collapsible).query_one(Collapsible.Contents)
        await self.query_one("#form-status").remove()
        await contents.mount(self.form)
        await self.after_form_loaded()
        if self.want_focus:
            self.focus_first()

    @on(m.ParametersFailed)
    def _parameters_failed(self, message: m.ParametersFailed) -> None:
        self._params_error = message.message
        text = Text("✗ could not load the app's form: ", style="bold red")
        text.append(clean(message.message))
        text.append("  (ctrl+r to retry)", style="dim")
        self.query_one("#form-status", Static).update(text)

    async def after_form_loaded(self) -> None:
        """Hook: the form is there (chat shows the opening statement)."""

    def focus_target(self) -> Widget | None:
        """Where focus lands when the app is opened: its first form field, else the main control."""
        if self.form is not None:
            control = self.form.first_control()
            if control is not None:
                return control
        return self.main_control()

    def main_control(self) -> Widget | None:
        return None

    def focus_first(self) -> None:
        self.want_focus = False
        target = self.focus_target()
        if target is not None:
            target.focus()

    def collect_inputs(self) -> dict[str, Any] | None:
        """Validated, typed inputs; None (with errors shown inline) when they are not valid."""
        if self.form is None:
            if self._params_error:
                self.load_parameters()
                self.notify("Loading the app's form again…")
            else:
                self.notify("The form is still loading.", severity="warning")
            return None
        values, errors = self.form.collect()
        if errors:
            self.query_one("#inputs", Collapsible).collapsed = False
            doing = "sending" if self.interface == "chat" else "running"
            self.notify(self.form.attention(errors, doing), severity="error")
            return None
        return values

    def remember_inputs(self, values: dict[str, Any]) -> None:
        """Store the inputs for next time and fold the form away (its title keeps a summary)."""
        self.ctx.writer.set_inputs(self.ctx.ws_key, self.item.id, values)
        inputs = self.query_one("#inputs", Collapsible)
        if inputs.has_focus_within:
            # A hidden field loses focus to nothing, and the pane's keys (Escape!) with it.
            control = self.main_control()
            if control is not None:
                control.focus()
        inputs.collapsed = True
        if self.form is not None:
            summary = self.form.summary(values)
            title = "Inputs" + (f": {summary}" if summary else "")
            inputs.title = Content(title)

    # -- shared bits ----------------------------------------------------------------------------

    async def notice(self, text: str, variant: str = "info") -> Notice:
        widget = Notice(text, variant)
        await self.log_view.add(widget)
        return widget
