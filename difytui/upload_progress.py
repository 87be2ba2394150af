"""Upload progress: a file object that reports how far httpx has read it.

httpx reads a multipart file part in chunks as it writes the request body, so the bytes handed to
the connection so far are the upload's progress (sync: from the open file; async: from the bytes
read off the event loop). The length stays known (``fileno`` / ``seek``), so the request keeps its
``Content-Length``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

#: ``progress(sent, total)``: bytes of the file sent so far, and its size.
Progress = Callable[[int, int], None]


class ProgressReader:
    """Wraps an open binary file; every read reports the position reached to ``progress``."""

    def __init__(self, raw: IO[bytes], progress: Progress) -> None:
        self._raw = raw
        self._progress = progress
        self._total = _size(raw)

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if chunk:
            self._progress(self._raw.tell(), self._total)
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()  # io.BytesIO raises UnsupportedOperation: httpx then seeks


def _size(raw: IO[bytes]) -> int:
    here = raw.tell()
    end = raw.seek(0, os.SEEK_END)
    raw.seek(here)
    return end
