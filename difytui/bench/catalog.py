"""The cases of an app, for the console's Tests view: loaded file by file, so that one broken file
shows its ``file:line`` problems while the other files' cases stay listed and runnable.

(``difytui test`` loads with :func:`~difytui.bench.case_files.load_cases` at once instead: there a
bad file stops the whole suite, exit 2.)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from difytui.bench.case_files import CaseFileError, Problem, load_cases
from difytui.bench.model import Case

if TYPE_CHECKING:
    from difytui.config import Workspace


@dataclass
class Catalog:
    """What the folders hold: the cases that loaded, and every problem of the files that did not."""

    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def for_app(self, names: Collection[str], workspace: str | None) -> list[Case]:
        """The cases that target an app known by any of ``names`` (its id, its name) in
        ``workspace`` (a case naming no workspace runs on the default one, the console's)."""
        return [case for case in self.cases if case.app in names and case.workspace in (None, workspace)]


def case_files(folder: Path) -> list[Path]:
    """Every ``*.toml`` under ``folder``, sorted, hidden files and folders left out (as the loader)."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*.toml")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def load_catalog(folders: Sequence[Path]) -> Catalog:
    """The cases of every file under ``folders`` (a missing folder holds none: nothing saved yet)."""
    catalog = Catalog()
    for folder in folders:
        for file in case_files(folder):
            try:
                catalog.cases.extend(load_cases([file], root=folder))
            except CaseFileError as error:
                catalog.problems.extend(error.problems)
    return catalog


@dataclass(frozen=True)
class Folders:
    """Where the console reads an app's cases, and where Save as test case writes them."""

    read: tuple[Path, ...]
    save: Path | None  # None: no folder known (``why`` says so)
    why: str = ""


def folders_for(workspace: Workspace, config_path: Path | None) -> Folders:
    """The workspace's ``cases_dir``, else the config's, else ``cases/`` beside the config (as
    ``difytui test``). The demo reads its shipped examples and saves into the data dir (never
    into the installed package)."""
    if workspace.cases_dir is not None:
        return Folders((workspace.cases_dir,), workspace.cases_dir)
    if workspace.source == "demo":
        from difytui import demo, paths

        saved = paths.data_dir() / "demo-cases"
        return Folders((demo.cases_dir(), saved), saved)
    if config_path is None:
        return Folders((), None, "no config file: set cases_dir in a config to keep test cases")
    from difytui.config import load_config
    from difytui.errors import ConfigError

    try:
        folder = load_config(config_path).cases_dir
    except ConfigError as error:
        return Folders((), None, str(error))
    folder = folder or config_path.parent / "cases"
    return Folders((folder,), folder)
