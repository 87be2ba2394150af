"""The Textual console. Imported lazily by the CLI, so ``import difytui`` never loads Textual."""

from __future__ import annotations

import sys


def run(config_path: str | None = None, workspace: str | None = None, demo: bool = False) -> int:
    """Open the console on the configured workspace (or the built-in simulator with ``demo``).

    A bad configuration exits with 2 and its one-line message before any screen is shown.
    """
    import gc

    # Nearly everything start-up allocates (modules, styles, widgets) lives as long as the console:
    # the cyclic collector would scan it again and again before the first frame (~20 ms of CPU).
    # DifyConsole.on_ready turns it back on (and freezes what start-up made).
    gc.disable()
    try:
        return _run(config_path, workspace, demo)
    finally:
        gc.enable()


def _run(config_path: str | None, workspace: str | None, demo: bool) -> int:
    from difytui.errors import ConfigError
    from difytui.tui.safe_text import clean

    sim = None
    config = None
    try:
        if demo:
            from difytui.demo import LazyDemo

            # The simulator starts on the console's first request, after the first frame.
            sim = LazyDemo(token_delay=0.02)
            ws = sim.workspace
        else:
            from difytui.config import load_config

            config = load_config(config_path)
            ws = config.workspace(workspace)
    except ConfigError as error:
        print(f"difytui: {clean(str(error))}", file=sys.stderr)
        return 2
    try:
        from difytui.tui.app import DifyConsole

        while True:
            app = DifyConsole(
                ws,
                keymap=config.keymap if config else None,
                workspaces=list(config.workspaces) if config else None,
                config_path=config.path if config else None,
            )
            result = app.run()
            if not (isinstance(result, tuple) and result and result[0] == "workspace"):
                return app.return_code or 0
            # Switching workspace (or after an import): read the config again, it may have changed.
            from difytui.config import load_config

            path = result[2] if len(result) > 2 else (config.path if config else None)
            try:
                config = load_config(path)
                ws = config.workspace(result[1])
            except ConfigError as error:
                print(f"difytui: {clean(str(error))}", file=sys.stderr)
                return 2
    finally:
        if sim is not None:
            sim.stop()
