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


def test_ci_runs_the_readmes_test_command():
    _demo, test = _opening_commands()
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
