"""The scrolling log pane and the items in it: user turns, streamed answers (:mod:`.answer_view`),
notices."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Static

from difytui.tui.safe_text import literal
from difytui.tui.widgets.answer_view import AnswerView

__all__ = ["AnswerView", "Notice", "ResponseLog", "UserTurn"]


class ResponseLog(VerticalScroll, can_focus=False):
    """Follows new content only while the user is at the bottom (``anchor()``).

    Not in the Tab order (Tab goes from the last form field to the prompt): PageUp/PageDown
    scroll it from anywhere in the pane, and the mouse wheel works as usual.
    """

    _windows_due = False

    def on_mount(self) -> None:
        self.anchor()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.viewport_moved()

    def watch_virtual_size(self) -> None:
        # Content grew or shrank. While the log is anchored, Textual moves the view to the end in
        # the frame's arrange without calling watch_scroll_y (it sets scroll_y with set_reactive):
        # a bar or notice removed under the last answer brought an earlier answer's dropped
        # pieces back into view, and they stayed blank.
        self.viewport_moved()

    def viewport_moved(self) -> None:
        """Answers render only the pieces near the viewport: tell them once the frame is drawn."""
        if not self._windows_due:
            self._windows_due = True
            self.call_after_refresh(self._refresh_windows)

    def _refresh_windows(self) -> None:
        self._windows_due = False
        for child in self.children:
            if isinstance(child, AnswerView):
                child.refresh_window()

    @property
    def follows_end(self) -> bool:
        """Anchored and not scrolled away by the user: new content at the end stays in view."""
        return self.is_anchored and not self._anchor_released

    @property
    def settled(self) -> bool:
        """No window refresh is due and no answer renders or moves its pieces (tests wait for it:
        between a scroll and the refresh after the next frame, every answer alone looks settled)."""
        return not self._windows_due and all(a.settled for a in self.query_children(AnswerView))

    def on_resize(self) -> None:
        self.viewport_moved()
        # Textual sets the scrollbar's sizes while it arranges a frame, and a repaint asked for
        # then can be lost: the thumb stayed drawn for the old size (the approval form's snapshot,
        # ~1 run in 20). Paint it again once that frame is drawn.
        self.call_after_refresh(self._repaint_scrollbar)

    def _repaint_scrollbar(self) -> None:
        if self.show_vertical_scrollbar:  # (asking for the scrollbar would make one)
            self.vertical_scrollbar.refresh()

    def on_show(self) -> None:
        self.viewport_moved()

    async def add(self, *widgets: Any) -> None:
        await self.mount_all(widgets)


class UserTurn(Static):
    """What the user sent (shown literally)."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(literal(text), markup=False, **kwargs)
        self.text = text


class Notice(Static):
    """A one-off line in the log: errors, warnings, info. Variant via CSS class (-error/-warning/-info)."""

    def __init__(self, text: str, variant: str = "info", **kwargs: Any) -> None:
        super().__init__(literal(text), markup=False, **kwargs)
        self.add_class(f"-{variant}")
        self.text = text
