"""The sidebar: the workspace's apps grouped by interface, with a filter box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from difytui.models import MODE_LABELS
from difytui.tui.models import AppItem
from difytui.tui.safe_text import one_line

GROUPS = (("chat", "Chat"), ("workflow", "Workflow"), ("completion", "Completion"))


BADGE_STYLES = {
    "chat": "black on #7dcfff",
    "agent-chat": "black on #bb9af7",
    "agent": "black on #bb9af7",
    "advanced-chat": "black on #7aa2f7",
    "workflow": "black on #9ece6a",
    "completion": "black on #e0af68",
}


def badge(mode: str) -> str:
    return MODE_LABELS.get(mode, mode or "?")


def badge_text(mode: str) -> Text:
    return Text(f" {badge(mode)} ", style=BADGE_STYLES.get(mode, "reverse"))


class AppOptions(OptionList):
    """The option list; Enter/click open the highlighted app (OptionSelected)."""


class AppList(Vertical):
    """Filter box + grouped app list. Posts ``AppList.Chosen`` when an app is opened."""

    @dataclass
    class Chosen(Message):
        app_id: str

    def __init__(self, apps: list[AppItem], *, title: Text | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title  # a line above the filter (the console's: its name and workspace)
        self.apps: dict[str, AppItem] = {a.id: a for a in apps}
        self.order: list[str] = [a.id for a in apps]
        self._needle = ""  # the filter the list was last built for
        self._note = ""  # the last refresh's word ("refreshing…", failures); shown under the count
        self._shown = len(apps)  # apps the filter lets through

    def compose(self) -> ComposeResult:
        if self.title is not None:
            yield Static(self.title, id="brand", markup=False)
        yield Input(placeholder="filter apps (ctrl+l or /)", id="app-filter", compact=True)
        yield AppOptions(id="app-options")
        yield Static("", id="apps-status", markup=False)

    def on_mount(self) -> None:
        self.rebuild()

    @property
    def filter_text(self) -> str:
        return self.query_one("#app-filter", Input).value.strip().lower()

    def set_apps(self, apps: list[AppItem]) -> None:
        """Replace the list (after a refresh), keeping the highlighted app if it is still there."""
        self.apps = {a.id: a for a in apps}
        self.order = [a.id for a in apps]
        self.rebuild()

    def set_status(self, note: str) -> None:
        """The refresh's outcome, under the app count (which follows the filter)."""
        self._note = one_line(note)
        self._show_status()

    def _show_status(self) -> None:
        total = len(self.order)
        noun = "app" if total == 1 else "apps"
        count = f"{self._shown} of {total} {noun}" if self._shown != total else f"{total} {noun}"
        # Styles as spans, never a whole Text's style (here and in the first frame's other texts):
        # Textual parses a whole-text style as markup, and its first such parse tokenizes every
        # variable of the theme (~1 ms of start-up); a span's Rich style it converts directly.
        text = Text.assemble((count, "italic"))
        if self._note:
            text.append(f"\n{self._note}")
        self.query_one("#apps-status", Static).update(text)

    def _matches(self, item: AppItem, needle: str) -> bool:
        if not needle:
            return True
        hay = f"{item.id} {item.name} {item.mode} {badge(item.mode)} {item.description}".lower()
        return all(word in hay for word in needle.split())

    @staticmethod
    def _rank(item: AppItem, needle: str) -> int:
        """How well ``item`` answers the filter: 0 its id or name is it, 1 starts with it, 2 contains
        it, 3 only the other words match (mode, description), so Enter opens the closest app."""
        keys = (item.id.lower(), item.name.lower())
        if needle in keys:
            return 0
        if any(key.startswith(needle) for key in keys):
            return 1
        if any(needle in key for key in keys):
            return 2
        return 3

    def _prompt(self, item: AppItem) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(one_line(item.name) or item.id)
        text.append(" ")
        if item.error and not item.mode:
            text.append(" ! ", style="bold reverse red")
        else:
            text.append_text(badge_text(item.mode))
        return text

    def rebuild(self) -> None:
        options = self.query_one(AppOptions)
        highlighted = self.highlighted_app
        needle = self.filter_text
        items: list[Option] = []
        groups: dict[str, list[AppItem]] = {key: [] for key, _ in GROUPS}
        groups["other"] = []
        for app_id in self.order:
            item = self.apps[app_id]
            if self._matches(item, needle):
                groups.get(item.interface or "other", groups["other"]).append(item)
        best: tuple[int, str] | None = None
        for key, title in (*GROUPS, ("other", "Unavailable")):
            members = groups[key]
            if not members:
                continue
            if needle:  # closest matches first within the group (sorted() keeps the order of ties)
                members = sorted(members, key=lambda item: self._rank(item, needle))
                rank = self._rank(members[0], needle)
                if best is None or rank < best[0]:
                    best = (rank, members[0].id)
            items.append(Option(Text.assemble((title, "bold")), id=f"group:{key}", disabled=True))
            items.extend(Option(self._prompt(item), id=item.id) for item in members)
        options.clear_options()
        options.add_options(items)
        self._shown = sum(1 for o in items if not o.disabled)
        self._show_status()
        if not any(not o.disabled for o in items):
            options.add_option(Option(Text.assemble(("no app matches", "italic")), disabled=True))
            self._needle = needle
            return
        ids = [o.id for o in items if not o.disabled and o.id is not None]
        if best is not None and needle != self._needle:
            target = best[1]  # a new filter: highlight its closest match, for Enter to open
        else:
            target = highlighted if highlighted is not None and highlighted in ids else ids[0]
        self._needle = needle
        options.highlighted = options.get_option_index(target)

    @property
    def highlighted_app(self) -> str | None:
        options = self.query_one(AppOptions)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return None if option.disabled or option.id is None else option.id

    @on(Input.Changed, "#app-filter")
    def _filter_changed(self) -> None:
        self.rebuild()

    @on(Input.Submitted, "#app-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        app_id = self.highlighted_app
        if app_id:
            self.post_message(self.Chosen(app_id))
            # The filter did its job: show every app again (the opened one stays highlighted).
            event.input.value = ""

    def on_key(self, event: events.Key) -> None:
        # Up/Down in the filter box move the highlight, so typing + Enter is enough to open an app.
        filter_box = self.query_one("#app-filter", Input)
        options = self.query_one(AppOptions)
        # Typing on the list goes to the filter box: "type to filter" works without "/" first.
        if options.has_focus and event.is_printable and event.character and event.character not in " /":
            filter_box.focus()
            filter_box.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()
            return
        if filter_box.has_focus and event.key in ("down", "up"):
            if event.key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            event.stop()
            event.prevent_default()

    @on(OptionList.OptionSelected, "#app-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and not event.option.disabled:
            self.post_message(self.Chosen(event.option.id))
