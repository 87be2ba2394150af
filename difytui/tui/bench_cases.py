"""The Tests view's data, without widgets: the open app's cases from the cases folders, the ones
that cannot run on it (with their ``file:line`` problems) and what was recorded about each last."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from difytui.bench.case_files import CaseFileError, Problem, check_target
from difytui.bench.catalog import Folders, load_catalog
from difytui.bench.last_results import LastResult, last_results
from difytui.bench.model import Case, Target
from difytui.bench.record import Recorder
from difytui.store import Store


@dataclass
class AppCases:
    cases: list[Case] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # keys of cases that cannot run on the app
    problems: list[Problem] = field(default_factory=list)  # broken files first, then misfits
    last: dict[str, LastResult] = field(default_factory=dict)


def load_app_cases(
    folders: Folders,
    names: set[str],
    interface: str | None,
    interfaces: Mapping[str, str],
    store: Store,
    workspace: str | None = None,
) -> AppCases:
    """The cases of the app known by ``names`` (reads files and the state: call it in a thread).

    ``interface``: the app's (None: not known yet, nothing checked); ``interfaces``: every known
    app's, for the judges' graders (a completion or workflow grader needs inputs)."""
    catalog = load_catalog(folders.read)
    found = AppCases(problems=list(catalog.problems))
    seen: dict[str, Case] = {}
    for case in catalog.for_app(names, None):
        first = seen.setdefault(case.key, case)
        if first is case:
            found.cases.append(case)
        else:  # two folders holding the same file name and case name (the demo's and the saved ones)
            message = f"case {case.name!r} is also in {first.where}: only that one is listed"
            found.problems.append(Problem(case.where.file, case.where.line, message))
    for case in found.cases:
        if interface is None:
            break
        try:
            check_target(case, Target(case.app, case.workspace), interface, graders=interfaces)
        except CaseFileError as error:
            found.invalid.add(case.key)
            found.problems.extend(error.problems)
    found.last = history(store, found.cases, workspace)
    return found


def history(store: Store, cases: Sequence[Case], workspace: str | None = None) -> dict[str, LastResult]:
    """The last recorded results, each on its case's own target as ``difytui test`` records it (a
    case naming no workspace ran on ``workspace``, the console's)."""
    keys = Recorder(store, default_workspace=workspace)
    found: dict[str, LastResult] = {}
    for case in cases:
        found.update(last_results(store, [case.key], keys.target_key(Target(case.app, case.workspace))))
    return found
