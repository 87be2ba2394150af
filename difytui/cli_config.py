"""``difytui config init``: write a starter config (the shipped config.example.toml) to edit."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from difytui.cliutil import EXIT_ERROR, EXIT_OK, EXIT_USAGE, say

EXAMPLE_NAME = "config.example.toml"


def example_path() -> Path:
    """The example config: inside the package in a wheel, at the repository's root in a checkout."""
    package = Path(__file__).parent
    for candidate in (package / EXAMPLE_NAME, package.parent / EXAMPLE_NAME):
        if candidate.is_file():
            return candidate
    return package / EXAMPLE_NAME


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], global_options: Callable[..., None]
) -> None:
    config = subparsers.add_parser("config", help="write a starter config file")
    global_options(config, suppress=True)
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="write the commented example config where difytui reads it (mode 0600)",
        description="Write the commented example config to --config PATH, else $DIFYTUI_CONFIG, else the "
        "default location. An existing file is kept unless --force.",
    )
    global_options(init, suppress=True)
    init.add_argument("--force", action="store_true", help="replace an existing file")


def target_path(explicit: str | None) -> Path:
    from difytui.config import find_config_path

    found = find_config_path(explicit)
    if found is not None:
        return found
    override = os.environ.get("DIFYTUI_CONFIG_DIR")
    from difytui import paths

    return Path(override) / "config.toml" if override else paths.default_config_path()


def run(args: argparse.Namespace) -> int:
    target = target_path(getattr(args, "config", None))
    source = example_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        say(f"difytui: cannot read the example config {source}: {error.strerror or error}")
        return EXIT_ERROR
    if target.exists() and not args.force:
        say(f"difytui: {target} already exists; --force replaces it")
        return EXIT_USAGE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = os.open(target, flags, 0o600)  # it will hold API keys
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(target, 0o600)
    except OSError as error:
        say(f"difytui: cannot write {target}: {error.strerror or error}")
        return EXIT_ERROR
    say(
        f"difytui: wrote a starter config to {target}: set base_url and each app's key, "
        "or fill it with `difytui workspace import`"
    )
    return EXIT_OK
