"""The library layer must not drag the terminal UI in: scripts and the CLI stay fast and TUI-free."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import modules_loaded

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


# -- start-up: only what the first frame (or --version) needs -----------------------------------

#: Loaded by neither `difytui --version` nor the console's first frame (issue 7, "Start-up").
HEAVY = ("httpx", "tomlkit", "markdown_it", "pygments")


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_version_imports_no_http_toml_or_tui(tmp_path):
    code = (
        "import contextlib, io, sys\n"
        "from difytui.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--version'])\n"
        "print(*sys.modules)\n"
    )
    loaded = modules_loaded(code, tmp_path)
    unwanted = {*HEAVY, "textual", "platformdirs"}  # (Textual imports platformdirs itself)
    assert not _top(loaded) & unwanted, sorted(_top(loaded) & unwanted)
    assert not {"difytui.cli_account", "difytui.cli_workspace", "difytui.account"} & loaded


FIRST_FRAME_PROBE = """
import sys
from difytui.demo import LazyDemo
from difytui.tui.app import DifyConsole

demo = LazyDemo()
seen = {}

class Probe(DifyConsole):
    def on_ready(self):  # runs before DifyConsole.on_ready: the first frame is on screen
        seen["modules"] = list(sys.modules)
        seen["simulator started"] = demo.sim is not None
        self.exit()

Probe(demo.workspace).run(headless=True, size=(120, 40))
demo.stop()
print(*seen["modules"])
print("SIM", seen["simulator started"], file=sys.stderr)
"""


def test_the_consoles_first_frame_needs_no_panes_client_or_simulator(tmp_path):
    env = {**os.environ, "DIFYTUI_DATA_DIR": str(tmp_path / "data"), "DIFYTUI_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_PROBE], capture_output=True, text=True, env=env, check=True
    )
    loaded = set(result.stdout.split())
    assert "difytui.tui.app" in loaded  # the probe saw the console's modules
    assert not _top(loaded) & set(HEAVY), sorted(_top(loaded) & set(HEAVY))
    late = {
        "difytui.client",  # the client (httpx, SSL context) is built after the first frame
        "difytui.sim.simulator",  # the demo's server starts on the first request
        "difytui.tui.widgets.pane",
        "difytui.tui.widgets.chat_pane",
        "difytui.tui.widgets.response_log",
        "difytui.run_records",  # with the first run recorded (the budget too)
        "difytui.tui.screens.help",  # with F1
        "difytui.config",  # the demo's workspace is config_models' data: no TOML to load
    }
    assert not late & loaded, sorted(late & loaded)
    assert "SIM False" in result.stderr  # no request reached the demo before the first frame


def test_the_lean_parser_knows_every_command():
    from difytui.cli import _HEAVY_COMMANDS, build_parser

    def commands(parser) -> dict:
        action = next(a for a in parser._actions if a.dest == "command")
        return action.choices

    full = commands(build_parser())
    lean = commands(build_parser(["apps"]))
    assert set(lean) == set(full)
    # Naming a heavy command, or asking for help, gets the whole parser.
    for argv in (["login", "--server", "x"], ["workspace", "import"], ["--help"], ["apps", "-h"]):
        assert commands(build_parser(argv)).keys() == full.keys()
        assert all(commands(build_parser(argv))[name]._actions[1:] for name in _HEAVY_COMMANDS)
