"""The library layer must not drag the terminal UI in: scripts and the CLI stay fast and TUI-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

LIBRARY_MODULES = [
    "difytui",
    "difytui.client",
    "difytui.config",
    "difytui.forms",
    "difytui.store",
    "difytui.sim",
    "difytui.cli",
]


@pytest.mark.parametrize("module", LIBRARY_MODULES)
def test_library_module_does_not_import_textual(module):
    code = (
        f"import sys, {module}\n"
        "import difytui\n"
        "difytui.Dify, difytui.AsyncDify, difytui.DifyError\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} imported: {result.stdout.strip()}"


def test_public_names_resolve():
    import difytui

    for name in difytui.__all__:
        assert getattr(difytui, name) is not None
