"""A collapsible section of highlighted JSON (or literal text), rendered when first expanded.

A run can have hundreds of nodes: their bodies cost nothing until someone opens one. The title
and the body are server text, so both are built literally (``Content``, ``safe_text``), never
parsed as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.content import Content
from textual.widgets import Collapsible, Static

from difytui.tui.safe_text import json_line, json_text, literal


class JsonSection(Collapsible):
    """``data`` as indented JSON (``text=True``: as literal text; ``lines=True``: one JSON line per
    item of a list, for raw events)."""

    def __init__(
        self,
        title: str | Content,
        data: Any,
        *,
        collapsed: bool = True,
        text: bool = False,
        lines: bool = False,
        **kwargs: Any,
    ) -> None:
        body = Static("", classes="json-body", markup=False)
        heading = title if isinstance(title, Content) else Content(title)
        super().__init__(body, title=heading, collapsed=collapsed, **kwargs)  # type: ignore[arg-type]
        self.data = data
        self.as_text = text
        self.as_lines = lines
        self.body = body
        self.rendered = False

    def on_mount(self) -> None:
        if not self.collapsed:
            self.render_body()

    @on(Collapsible.Expanded)
    def _expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is self:
            self.render_body()

    def render_body(self) -> None:
        if self.rendered:
            return
        self.rendered = True
        self.body.update(self.body_text())

    def body_text(self) -> Text:
        if self.as_text:
            return literal(self.data if isinstance(self.data, str) else str(self.data))
        if self.as_lines and isinstance(self.data, list):
            out = Text()
            for number, item in enumerate(self.data):
                if number:
                    out.append("\n")
                out.append_text(json_line(item))
            return out
        return json_text(self.data)
