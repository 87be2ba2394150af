"""The shared printable filter (CLI output and every TUI widget): server text shown, never obeyed."""

from __future__ import annotations

from difytui.text import printable
from difytui.tui import safe_text


def test_the_tui_uses_the_same_filter_as_the_cli():
    assert safe_text.clean is printable


def test_lone_surrogates_are_escaped_so_any_encoding_can_write_them():
    shown = safe_text.one_line("bad \ud800 name \udfff")
    assert shown == "bad \\ud800 name \\udfff"
    shown.encode("utf-8")  # no surrogate left: this used to raise UnicodeEncodeError


def test_a_valid_surrogate_pair_decoded_by_json_is_left_alone():
    assert printable("😀 \x1b[31m") == "😀 ␛[31m"
