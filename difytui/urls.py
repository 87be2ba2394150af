"""Whether a base_url can be requested at all: checked at config load and in the client constructor.

Stdlib only (config loading stays light); the drivers still turn httpx's own ``InvalidURL`` into a
DifyError, for anything this misses.
"""

from __future__ import annotations

import re
import urllib.parse

# Spaces and controls: httpx refuses most of them, and none belongs in a URL as written.
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable http(s) URL, or None when it is."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return "it must start with http:// or https://"
    if _UNSAFE.search(url):
        return "it contains a space or control character"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check (out of range, not a number)
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", …
        return str(exc)
    if not parts.hostname:
        return "it has no host"
    return None
