"""The library layer must not drag the terminal UI in: scripts and the CLI stay fast and TUI-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import difytui


def _library_modules() -> list[str]:
    """Every module of the package outside difytui.tui (found on disk, so new modules are covered)."""
    root = Path(difytui.__file__).parent
    names = ["difytui"]
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if "tui" in parts or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(set(names))


LIBRARY_MODULES = _library_modules()


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


def test_the_module_list_is_complete():
    assert {"difytui.client", "difytui.backends", "difytui.account", "difytui.sim.server"} <= set(
        LIBRARY_MODULES
    )


def test_public_names_resolve():
    import difytui

    for name in difytui.__all__:
        assert getattr(difytui, name) is not None
