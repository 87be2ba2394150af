"""What the console's first frame does without: the panes' modules, the late stylesheets and the
Dify client all load after it (tests/tui/test_startup.py, tests/test_import_hygiene.py).

Light on purpose: app.py imports this before the first frame, so no httpx, Markdown or pane module.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App

import difytui

if TYPE_CHECKING:
    from difytui.client import AsyncDify
    from difytui.config import Workspace
    from difytui.tui.widgets.pane import AppPane


def pane_class(interface: str | None) -> type[AppPane] | None:
    """The pane for an interface. Imported on first use: the panes pull in Markdown, markdown_it
    and pygments, which the first frame does not need (tests/test_import_hygiene.py)."""
    if interface == "chat":
        from difytui.tui.widgets.chat_pane import ChatPane

        return ChatPane
    if interface == "workflow":
        from difytui.tui.widgets.workflow_pane import WorkflowPane

        return WorkflowPane
    if interface == "completion":
        from difytui.tui.widgets.completion_pane import CompletionPane

        return CompletionPane
    return None


def styles_dir() -> Path:
    """Installed wheels ship styles/ inside the package; editable installs use the repo's styles/."""
    package = Path(difytui.__file__).parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    return package / "styles"


class DeferredStartup(App[Any]):
    """The console's late stylesheets and its client, both ready after the first frame."""

    #: Read after the first frame (the panes', the import screens'); CSS_PATH holds the first frame's.
    LATE_STYLES: ClassVar[tuple[str, ...]] = ("app.tcss", "import.tcss", "human_input.tcss")

    # Set by DifyConsole.__init__.
    workspace: Workspace
    _client: AsyncDify | None
    _client_lock: threading.Lock

    def load_late_styles(self) -> None:
        """Read the sheets the first frame did without; called after it, and before anything that
        needs them (a pane, a modal) in case that comes first. Parsing them took ~10 ms of start-up."""
        paths = [os.path.abspath(styles_dir() / name) for name in self.LATE_STYLES]  # as read() keys them
        missing = [path for path in paths if not self.stylesheet.has_source(path)]
        if not missing:
            return
        for path in missing:
            self.stylesheet.read(path)
        self.stylesheet.reparse()
        self.stylesheet.update(self)

    @property
    def client(self) -> AsyncDify:
        """The Dify client; normally built in a thread right after the first frame (_build_client)."""
        return self._client if self._client is not None else self._build_client()

    def _build_client(self) -> AsyncDify:
        with self._client_lock:  # the thread and an early user action must not build two
            if self._client is None:
                from difytui.client import AsyncDify

                self._client = AsyncDify(workspace=self.workspace)
            return self._client
