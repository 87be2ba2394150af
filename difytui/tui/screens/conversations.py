"""The conversation list of a chat app: Dify's ``GET /conversations``, newest first, paged as the
user scrolls, plus the conversations the local records know that Dify no longer lists.

Enter opens one in the app's pane (the screen is dismissed with it); ``r`` renames, ``d`` deletes
(after a confirmation). Network work runs in :mod:`difytui.tui.runner`'s workers; their messages
come back here. An account workspace has no history API: the list says so and shows the local
records alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from difytui.history import Conversation, ConversationPager
from difytui.local_conversations import LocalConversation, local_conversations
from difytui.tui import messages as m
from difytui.tui import runner
from difytui.tui.safe_text import clean, one_line
from difytui.tui.screens.conversation_dialogs import ConfirmDelete, Rename, RenameDialog
from difytui.tui.startup import styles_dir

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.store import Store
    from difytui.tui.models import AppItem

#: conversations per page (Dify's most is 100)
PAGE_SIZE = 50
#: the next page loads when the cursor or the view comes this many rows near the end
NEAR_END = 5
NOT_LISTED = "not on Dify"
COLUMNS = ("name", "updated", "messages", "")


@dataclass
class ConversationEntry:
    """One row: a conversation as Dify lists it and/or as the local records know it."""

    id: str
    name: str
    updated: float
    inputs: dict[str, Any] = field(default_factory=dict)
    #: messages known (all read by the pane, else the local run records of it); None: unknown
    messages: int | None = None
    on_dify: bool = True

    @classmethod
    def from_dify(cls, conversation: Conversation, local: LocalConversation | None) -> ConversationEntry:
        return cls(
            conversation.id,
            conversation.name,
            conversation.updated_at or conversation.created_at,
            # the inputs last sent (the local record) win over those Dify kept from the start
            {**conversation.inputs, **(local.inputs if local else {})},
            local.runs if local else None,
        )

    @classmethod
    def from_local(cls, local: LocalConversation, on_dify: bool) -> ConversationEntry:
        return cls(local.id, local.name, local.updated, dict(local.inputs), local.runs, on_dify)


def when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


class ConversationsScreen(ModalScreen[ConversationEntry | None]):
    """The conversations of ``item`` for this client's user. ``current``: the pane's conversation
    (marked); ``deleted`` is told each conversation deleted from here (the pane forgets it);
    ``counts``: the messages of those whose count the pane knows."""

    CSS_PATH = styles_dir() / "history.tcss"
    HELP_TITLE = "Conversation list"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the table's own Enter (select) would hide this one from the footer
        Binding(
            "enter",
            "open",
            "Open",
            id="conversations.open",
            priority=True,
            tooltip="Continue the highlighted conversation in the app's pane",
        ),
        Binding(
            "r",
            "rename",
            "Rename",
            id="conversations.rename",
            tooltip="Rename it: type a name, or let Dify name it",
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="conversations.delete",
            tooltip="Delete it on Dify (asks first)",
        ),
        Binding("escape", "back", "Back", id="conversations.back", tooltip="Back to the app"),
    ]

    def __init__(
        self,
        item: AppItem,
        client: AsyncDify,
        store: Store,
        ws_key: str,
        current: str | None = None,
        deleted: Callable[[str], object] | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        super().__init__(id="conversations-screen")
        self.item = item
        self.client = client
        self.store = store
        self.ws_key = ws_key
        self.current = current
        self._deleted = deleted
        self._counts = dict(counts or {})
        self.entries: dict[str, ConversationEntry] = {}
        self._local: dict[str, LocalConversation] = {}
        self.pager = ConversationPager(PAGE_SIZE)
        self.loading = False
        self.complete = False
        self.error = ""

    def compose(self) -> ComposeResult:
        title = Text("Conversations  ", style="bold")
        title.append(one_line(self.item.name) or self.item.id, style="bold cyan")
        yield Static(title, id="conv-title", markup=False)
        yield Static("", id="conv-status", markup=False)
        table: DataTable[Any] = DataTable(id="conv-table", cursor_type="row", zebra_stripes=True)
        table.add_column(COLUMNS[0], key=COLUMNS[0])
        table.add_column(COLUMNS[1], key=COLUMNS[1], width=16)
        table.add_column(COLUMNS[2], key=COLUMNS[2], width=8)
        table.add_column("", key="mark", width=11)
        yield table
        yield Footer(compact=True)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#conv-table", DataTable)

    def on_mount(self) -> None:
        local = local_conversations(self.store, self.ws_key, self.item.id)
        self._local = {c.id: c for c in local}
        self.watch(self.table, "scroll_y", self._scrolled, init=False)
        self.table.focus()
        if not self.client.has_history:
            self.complete = True
            for conversation in local:
                self._add(ConversationEntry.from_local(conversation, on_dify=False))
            self._status()
            return
        self.load_more()

    # -- paging -------------------------------------------------------------------------------

    def load_more(self) -> None:
        if self.loading or self.complete:
            return
        self.loading = True
        self._status()
        self.run_worker(
            runner.load_conversations(self.client, self.item.id, self.pager, self.post_message),
            name="listing the conversations",
            group="conversations",
            exit_on_error=False,
        )

    def _near_end(self) -> bool:
        table = self.table
        return (
            table.cursor_row >= table.row_count - NEAR_END or table.scroll_y >= table.max_scroll_y - NEAR_END
        )

    def _scrolled(self, _old: float, _new: float) -> None:
        if self._near_end():
            self.load_more()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        if self._near_end():
            self.load_more()

    @on(m.ConversationsPage)
    def _page(self, message: m.ConversationsPage) -> None:
        self.loading = False
        self.error = ""
        for conversation in message.conversations:
            if conversation.id not in self.entries:
                self._add(ConversationEntry.from_dify(conversation, self._local.get(conversation.id)))
        if not message.more:
            self.complete = True
            # what the local records know and Dify did not list: deleted elsewhere, or another user's
            for local in self._local.values():
                if local.id not in self.entries:
                    self._add(ConversationEntry.from_local(local, on_dify=False))
        self._status()
        if not self.complete and self._near_end():
            self.call_after_refresh(self._scrolled, 0, 0)

    @on(m.ConversationsFailed)
    def _failed(self, message: m.ConversationsFailed) -> None:
        self.loading = False
        if message.cursor_gone:
            # the row the next page starts after was deleted meanwhile: read from the top again
            # (rows already shown are not added twice)
            self.pager = ConversationPager(PAGE_SIZE)
            self.load_more()
            return
        self.error = message.message
        self._status()

    # -- rows ---------------------------------------------------------------------------------

    def _add(self, entry: ConversationEntry) -> None:
        if entry.id in self._counts:  # the pane read all its messages: the exact count
            entry.messages = self._counts[entry.id]
        self.entries[entry.id] = entry
        self.table.add_row(*self._cells(entry), key=entry.id)

    def _cells(self, entry: ConversationEntry) -> tuple[Text, Text, Text, Text]:
        name = Text(one_line(entry.name)) if entry.name else Text(f"({entry.id[:8]}…)", style="dim italic")
        if entry.id == self.current:
            name = Text("● ", style="bold green") + name
        messages = Text(str(entry.messages) if entry.messages is not None else "", justify="right")
        # (an account workspace cannot list any: its status line says so, not every row)
        unlisted = not entry.on_dify and self.client.has_history
        mark = Text(NOT_LISTED if unlisted else "", style="yellow")
        return name, Text(when(entry.updated)), messages, mark

    def _update(self, entry: ConversationEntry) -> None:
        self.entries[entry.id] = entry
        row = self.table.get_row_index(entry.id)
        for column, cell in enumerate(self._cells(entry)):
            self.table.update_cell_at(Coordinate(row, column), cell, update_width=column == 0)

    def highlighted(self) -> ConversationEntry | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.entries.get(key) if key is not None else None

    def _status(self) -> None:
        listed = sum(1 for e in self.entries.values() if e.on_dify)
        local = len(self.entries) - listed
        text = Text()
        if not self.client.has_history:
            text.append(f"{runner.NO_HISTORY}: ", style="bold")
            text.append(
                f"these are the {local} conversations difytui recorded here."
                if local
                else "difytui has recorded no conversation of this app here yet."
            )
        else:
            text.append(f"{listed} conversation{'s' if listed != 1 else ''} on Dify")
            if local:
                text.append(f" · {local} only in the local records ({NOT_LISTED})", style="yellow")
            if self.error:
                text.append(f" · could not list more: {clean(self.error)}", style="red")
            elif self.loading:
                text.append(" · loading…", style="italic")
            elif not self.complete:
                text.append(" · more load as you scroll")
        self.query_one("#conv-status", Static).update(text)

    # -- keys ---------------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        entry = self.highlighted()
        if entry is not None:
            self.dismiss(entry)

    def action_back(self) -> None:
        self.dismiss(None)

    def _on_dify(self, entry: ConversationEntry | None, doing: str) -> ConversationEntry | None:
        if entry is None:
            return None
        if not self.client.has_history:
            self.notify(f"Cannot {doing} it: {runner.NO_HISTORY}.", severity="warning")
            return None
        if not entry.on_dify:
            self.notify(f"Cannot {doing} it: Dify no longer lists it.", severity="warning")
            return None
        return entry

    def action_rename(self) -> None:
        entry = self._on_dify(self.highlighted(), "rename")
        if entry is not None:
            self.app.push_screen(RenameDialog(entry.name), lambda answer: self._rename(entry, answer))

    def _rename(self, entry: ConversationEntry, answer: Rename | None) -> None:
        if answer is None:
            return
        self.run_worker(
            runner.rename_conversation(self.client, self.item.id, entry.id, answer.name, self.post_message),
            name="renaming the conversation",
            group="conversation-change",
            exit_on_error=False,
        )

    def action_delete(self) -> None:
        entry = self._on_dify(self.highlighted(), "delete")
        if entry is not None:
            self.app.push_screen(ConfirmDelete(entry.name), lambda yes: self._delete(entry, yes))

    def _delete(self, entry: ConversationEntry, yes: bool | None) -> None:
        if not yes:
            return
        self.run_worker(
            runner.delete_conversation(self.client, self.item.id, entry.id, self.post_message),
            name="deleting the conversation",
            group="conversation-change",
            exit_on_error=False,
        )

    @on(m.ConversationChanged)
    def _changed(self, message: m.ConversationChanged) -> None:
        entry = self.entries.get(message.conversation_id)
        if entry is None:
            return
        shown = repr(one_line(entry.name))
        if message.error:
            if message.gone:
                self._update(replace(entry, on_dify=False))
                self.notify(
                    f"{shown} no longer exists on Dify (deleted elsewhere).", severity="warning", markup=False
                )
            else:
                self.notify(
                    f"Could not change {shown}: {clean(message.error)}", severity="error", markup=False
                )
            self._status()
            return
        if message.renamed is not None:
            name = message.renamed.name
            self._update(replace(entry, name=name))
            note = f"Renamed to {one_line(name)!r}." if name != entry.name else f"Dify kept the name {shown}."
            self.notify(note, markup=False, timeout=4)
            return
        self.table.remove_row(entry.id)
        del self.entries[entry.id]
        self._local.pop(entry.id, None)
        self._status()
        self.notify(f"Deleted {shown}.", markup=False, timeout=4)
        if self._deleted is not None:
            self._deleted(entry.id)
