"""The file picker: a folder tree showing only the files a file input accepts (ctrl+o on the input).

Reusable by any form with file inputs (an app's form, a Human Input form): it takes the input's
constraints as :class:`PickRules` and is dismissed with the chosen paths, or None when cancelled
(the input then stays as it was). A single file is picked with Enter; a file list is built with
Space (at most ``max_files``) and used with ctrl+s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Static
from textual.widgets._directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from difytui.form_fields import Field
from difytui.form_files import accepts_name, type_extensions
from difytui.tui.safe_text import one_line
from difytui.tui.startup import styles_dir

_KIND_NAMES = {"image": "images", "document": "documents", "audio": "audio", "video": "videos"}


@dataclass(frozen=True)
class PickRules:
    """What a file input takes: the files shown (Dify's types and extensions) and how many."""

    label: str
    types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    #: 1 for a single file; None: any number
    max_files: int | None = 1

    @classmethod
    def of_field(cls, field: Field, taken: int = 0) -> PickRules:
        """For a form field; ``taken``: places already used by files not picked here (URLs)."""
        if field.control != "file-list":
            limit: int | None = 1
        else:
            limit = max(field.max_length - taken, 0) if field.max_length else None
        return cls(field.called("label"), field.allowed_file_types, field.allowed_file_extensions, limit)

    @property
    def multiple(self) -> bool:
        return self.max_files != 1

    def accepts(self, name: str) -> bool:
        return accepts_name(name, self.types, self.extensions)

    def describe(self) -> str:
        """Which files are shown, in a line."""
        kinds = [_KIND_NAMES.get(t, t) for t in self.types if t != "custom"]
        extensions = [e.lstrip(".").lower() for e in self.extensions if e.strip(". ")]
        if "custom" in self.types and extensions:
            kinds.append(", ".join("." + e for e in extensions))
        if not self.types:
            kinds = ["files of every known type"]
        known = [ext for t in self.types for ext in type_extensions(t)]
        listed = f" ({', '.join(known)})" if known and len(known) <= 8 else ""
        return "showing " + " and ".join(kinds or ["no files"]) + listed


def shown_path(path: Path) -> str:
    """A path as the picker and the form show it: under the home folder as ``~/…``."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class FileTree(DirectoryTree):
    """A folder tree with only the accepted files (and no hidden entries); chosen files are ticked."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "
    def __init__(self, path: Path, rules: PickRules, chosen: list[Path], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.rules = rules
        self.chosen = chosen  # shared with the screen, which changes it

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (self._safe_is_dir(p) or self.rules.accepts(p.name))
        ]

    def process_label(self, label: str | Text) -> Text:
        # A file name is data: escape sequences and control characters are shown, not obeyed.
        return super().process_label(one_line(label) if isinstance(label, str) else label)

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        if node is self.root and node.data is not None:
            return Text(one_line(shown_path(node.data.path)), style="bold")
        label = super().render_label(node, base_style, style)
        if node.data is not None and not node.allow_expand and node.data.path in self.chosen:
            return Text.assemble(("✓ ", "bold green"), label[len(self.ICON_FILE) :])  # the tick for the icon
        return label


class FilePicker(ModalScreen[list[Path] | None]):
    """Dismissed with the chosen files (in the order chosen), or None (Escape)."""

    CSS_PATH = styles_dir() / "file_picker.tcss"
    HELP_TITLE = "file picker"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the tree binds Space to open a folder (which it still does here).
        Binding(
            "space",
            "toggle_pick",
            "Select",
            id="picker.select",
            priority=True,
            tooltip="Select or unselect the highlighted file (a folder: open or close it)",
        ),
        Binding(
            "escape", "cancel", "Cancel", id="picker.cancel", tooltip="Close, leaving the input as it was"
        ),
        Binding("ctrl+s", "use", "Use", id="picker.use", tooltip="Fill the input with the selected files"),
        Binding("backspace", "parent", "Up", id="picker.up", tooltip="Show the parent folder"),
    ]

    def __init__(self, rules: PickRules, start: Path | None = None, chosen: Sequence[Path] = ()) -> None:
        super().__init__(id="file-picker")
        self.rules = rules
        self.chosen: list[Path] = [p.expanduser().absolute() for p in chosen]
        self.start = _start_folder(start, self.chosen)

    def compose(self) -> ComposeResult:
        rules = self.rules
        with Vertical(id="picker-box"):
            noun = "files" if rules.multiple else "a file"
            yield Static(Text(f"Pick {noun} for {one_line(rules.label)}", style="bold"), id="picker-title")
            limit = f" · up to {rules.max_files}" if rules.multiple and rules.max_files else ""
            yield Static(Text(rules.describe() + limit, style="dim"), id="picker-filter", markup=False)
            yield FileTree(self.start, rules, self.chosen, id="picker-tree")
            yield Static("", id="picker-chosen", markup=False)
            yield Static(Text(self._keys(), style="dim"), id="picker-keys", markup=False)

    def _keys(self) -> str:
        if self.rules.multiple:
            return "space select · ctrl+s use · enter open · backspace up · esc cancel"
        return "enter pick · backspace up · esc cancel"

    def on_mount(self) -> None:
        self.show_chosen()
        self.tree.focus()

    @property
    def tree(self) -> FileTree:
        return self.query_one(FileTree)

    def show_chosen(self, note: str = "") -> None:
        line = Text()
        if note:
            line.append(note, style="bold yellow")
        elif self.rules.multiple:
            of = f" of {self.rules.max_files}" if self.rules.max_files else ""
            line.append(f"selected {len(self.chosen)}{of}: ", style="bold")
            line.append(", ".join(one_line(p.name) for p in self.chosen) or "none")
        else:
            line.append("enter picks the highlighted file", style="dim")
        self.query_one("#picker-chosen", Static).update(line)

    # -- choosing ---------------------------------------------------------------------------------

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if self.rules.multiple:
            self.toggle(event.path)
        else:
            self.dismiss([event.path.absolute()])

    def toggle(self, path: Path) -> None:
        """Select or unselect a file of a file list (at most ``max_files``)."""
        path = path.absolute()
        if path in self.chosen:
            self.chosen.remove(path)
        elif self.rules.max_files is not None and len(self.chosen) >= self.rules.max_files:
            self.app.bell()
            limit = self.rules.max_files
            self.show_chosen(f"{one_line(self.rules.label)} takes at most {limit} files: unselect one first")
            return
        else:
            self.chosen.append(path)
        node = self.tree.cursor_node
        if node is not None:
            node.refresh()
        self.show_chosen()

    def action_toggle_pick(self) -> None:
        tree = self.tree
        node = tree.cursor_node
        if node is None or node.data is None:
            return
        if node.allow_expand:
            tree.action_toggle_node()  # a folder: open or close it, as Space does in a tree
        elif self.rules.multiple:
            self.toggle(node.data.path)
        else:
            self.dismiss([node.data.path.absolute()])

    def action_use(self) -> None:
        if not self.rules.multiple:
            node = self.tree.cursor_node
            if node is not None and node.data is not None and not node.allow_expand:
                self.dismiss([node.data.path.absolute()])
            return
        self.dismiss(list(self.chosen))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_parent(self) -> None:
        tree = self.tree
        parent = Path(tree.path).absolute().parent
        if parent != Path(tree.path).absolute():
            tree.path = parent


def _start_folder(start: Path | None, chosen: list[Path]) -> Path:
    """Where the tree starts: the given folder, else the first chosen file's, else the working one."""
    for candidate in [start, *(p.parent for p in chosen)]:
        if candidate is not None and candidate.expanduser().is_dir():
            return candidate.expanduser().absolute()
    return Path.cwd()
