"""Where a streamed Markdown answer may be cut into pieces that render as the whole text would.

A piece may start at a line that follows a blank line, outside code fences and HTML comments,
at column 0 (an indented line continues a list item or an indented code block), and that is not
a list item (a blank line between items keeps one loose list, numbered on from its start).

Known limits, chosen on purpose: a fence closed by a line longer than ``HEAD`` characters, and
HTML blocks other than comments (``<pre>``, ``<script>``… spanning blank lines) are not followed.
Link reference definitions are collected separately (:func:`link_definitions`), since a
definition anywhere in the document applies to every piece.
"""

from __future__ import annotations

import re

#: How much of each line is kept: enough to classify it, so a very long line costs the same per
#: piece of text however long it grows.
HEAD = 16

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_LIST_ITEM = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_UNDECIDED_ITEM = re.compile(r"\d{1,9}")  # digits so far: may still become "12." or "12)"
_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S[^\n]*$", re.MULTILINE)


class BreakScanner:
    """Follows the text as it streams in; :meth:`feed` returns where a new piece may start."""

    def __init__(self) -> None:
        self.fence = ""  # the opening run (```, ~~~~) while inside a fence
        self.comment = False  # inside an HTML comment (<!-- … -->)
        self._comment_closing = False  # the current line holds the comment's -->
        self._opens_comment = False  # the current line starts with <!--
        self._tail = ""  # the last two characters of the line so far: a --> may span two feeds
        self._head = ""  # the first HEAD characters of the line being received
        self._blank_before = False  # the last complete line was blank, outside fences/comments
        self._candidate: int | None = None  # offset (in the current feed) of a line that may start a piece
        self._fed = 0  # characters fed before the current feed
        self._line_start = 0  # where the line being received starts (in all the text fed)
        #: where the open fence's opening line starts (in all the text fed); None outside fences
        self.fence_start: int | None = None

    def feed(self, text: str) -> list[int]:
        """Offsets in ``text`` where a new piece may start, in order (reads ``text`` once)."""
        splits: list[int] = []
        start = 0
        size = len(text)
        while start <= size:
            end = text.find("\n", start)
            stop = size if end == -1 else end
            if not self._head and start < stop and self._blank_before and not self.fence and not self.comment:
                self._candidate = start  # this line starts here, after a blank line
            segment = text[start:stop]
            if len(self._head) < HEAD:
                self._head += segment[: HEAD - len(self._head)]
            if not (self.fence or self.comment or self._opens_comment) and self._head.lstrip(" ").startswith(
                "<!--"
            ):
                self._opens_comment = True
                opening = segment.find("<!--")
                if "-->" in segment[opening + 4 if opening != -1 else 0 :]:
                    self._comment_closing = True
            elif (self.comment or self._opens_comment) and "-->" in self._tail + segment:
                self._comment_closing = True
            if self.comment or self._opens_comment:
                self._tail = (self._tail + segment)[-2:]
            if self._candidate is not None:
                decided = self._decide(complete=end != -1)
                if decided is not None:
                    if decided:
                        splits.append(self._candidate)
                    self._candidate = None
            if end == -1:
                self._candidate = None  # undecided at the end of this feed: not a break (conservative)
                break
            was_fenced = bool(self.fence)
            self._line_done()
            if bool(self.fence) != was_fenced:
                self.fence_start = self._line_start if self.fence else None
            start = end + 1
            self._line_start = self._fed + start
        self._fed += size
        return splits

    def _decide(self, complete: bool) -> bool | None:
        """Whether the candidate line may start a piece; None while too little of it is known."""
        head = self._head
        if not head:
            return None if not complete else False
        if head[0] in " \t":
            return False  # continues a list item or an indented code block
        if _LIST_ITEM.match(head):
            return False
        if not complete and len(head) < HEAD and (head in ("-", "+", "*") or _UNDECIDED_ITEM.fullmatch(head)):
            return None
        return True

    def _line_done(self) -> None:
        head, self._head = self._head, ""
        closing, self._comment_closing = self._comment_closing, False
        opens, self._opens_comment = self._opens_comment, False
        self._tail = ""
        if self.fence:
            match = _CLOSE.fullmatch(head)
            if match and match.group(1)[0] == self.fence[0] and len(match.group(1)) >= len(self.fence):
                self.fence = ""
            self._blank_before = False
            return
        if self.comment:
            self.comment = not closing
            self._blank_before = False
            return
        if not head.strip():
            self._blank_before = True
            return
        self._blank_before = False
        fence = _FENCE.match(head)
        if fence:
            self.fence = fence.group(1)
        elif opens:
            self.comment = not closing


def link_definitions(text: str) -> list[str]:
    """The link reference definitions in ``text`` (``[label]: url``), which apply document-wide."""
    return _DEFINITION.findall(text)
