"""The README's two opening commands stay true: CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _opening_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_a_demo_command_and_a_test_command():
    demo, test = _opening_commands()
    assert "pip install" in demo and demo.endswith("difytui --demo")
    assert "pip install -e '.[test]'" in test and "pytest" in test
    assert ".venv/bin/mypy" in test  # the type checker runs in CI (configured in pyproject.toml)


def test_the_test_extra_installs_what_the_test_command_uses():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    _demo, test = _opening_commands()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = {
        re.split(r"[<>=\[; ]", req, maxsplit=1)[0]
        for req in project["project"]["optional-dependencies"]["test"]
    }
    assert {"pytest", "ruff", "mypy"} <= extra
    if " -n " in test:  # parallel workers, and random order (on whenever it is installed)
        assert {"pytest-xdist", "pytest-randomly"} <= extra
    assert project["tool"]["mypy"]["strict"] is True


def test_ci_runs_the_readmes_test_command():
    _demo, test = _opening_commands()
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
