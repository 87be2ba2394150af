"""The wheel carries what an installed difytui needs at run time (not only an editable checkout)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_stylesheets_the_demo_cases_and_the_entry_point(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    wheel = next(tmp_path.glob("difytui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for sheet in (ROOT / "styles").glob("*.tcss"):
        assert f"difytui/styles/{sheet.name}" in names
    assert "difytui/config.example.toml" in names  # `difytui config init` writes it
    # `difytui --demo test` runs the example cases from the installed package.
    demo_cases = sorted((ROOT / "difytui" / "demo_cases").iterdir())
    assert any(case.suffix == ".toml" for case in demo_cases)
    for case in demo_cases:
        assert f"difytui/demo_cases/{case.name}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "difytui = difytui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
