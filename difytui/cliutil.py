"""What every ``difytui`` subcommand shares: exit codes and how messages reach the user."""

from __future__ import annotations

import sys

from difytui.text import printable

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def say(message: str) -> None:
    """A line for humans on stderr (stdout is for data), with server text made inert."""
    print(printable(message), file=sys.stderr, flush=True)
