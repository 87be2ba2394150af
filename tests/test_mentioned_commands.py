"""Every command line and key that the README or the demo's own text mentions exists.

Commands are parsed by the real argparse parser; keys are checked against what F1 lists (the
console's bindings, the panes' and the prompt's, and the keys Textual itself handles there).
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from difytui.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "difytui" / "sim"


def _demo_texts() -> list[str]:
    """Every string literal of the simulator's modules: the demo's answers, openings, descriptions."""
    texts = []
    for path in sorted(SIM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node, ast.JoinedStr):  # f-strings: their literal parts
                texts.append("".join(v.value for v in node.values if isinstance(v, ast.Constant)))
    return texts


def _sources() -> dict[str, str]:
    return {"README.md": (ROOT / "README.md").read_text(encoding="utf-8"), "demo": "\n".join(_demo_texts())}


_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def _split_fences(text: str) -> tuple[list[str], str]:
    """(the lines of shell code blocks, the text outside every code block)."""
    shell: list[str] = []
    prose: list[str] = []
    fence: str | None = None  # the open block's language, "" for none
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
            continue
        if fence is None:
            prose.append(line)
        elif fence in ("", "sh", "bash", "console", "shell"):
            shell.append(line)
    return shell, "\n".join(prose)


def _command_lines(text: str) -> list[str]:
    """`difytui …` invocations: lines of shell code blocks and inline code spans."""
    candidates, prose = _split_fences(text)
    candidates += re.findall(r"`([^`\n]*difytui[^`\n]*)`", prose)
    commands = []
    for line in candidates:
        if "difytui" not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for word in [*lexer, "&&"]:
            if word not in ("&&", "||", "|", ";"):
                words.append(word)
                continue
            while words and _ENV.match(words[0]):  # DIFY_BASE_URL=… difytui
                words.pop(0)
            if words and Path(words[0]).name == "difytui":
                commands.append(shlex.join(words))
            words = []
    return commands


def _all_commands() -> list[tuple[str, str]]:
    return sorted({(source, line) for source, text in _sources().items() for line in _command_lines(text)})


def test_the_readme_and_the_demo_mention_commands():
    sources = {source for source, _line in _all_commands()}
    assert sources == {"README.md", "demo"}


@pytest.mark.parametrize(("source", "line"), _all_commands())
def test_each_mentioned_command_parses(source, line):
    argv = [w.replace("<id>", "3f2504e0-4f89-41d3-9a0c-0305e82c3301") for w in shlex.split(line)[1:]]
    try:
        build_parser(argv).parse_args(argv)
    except SystemExit as exit_:
        assert exit_.code == 0, f"{source}: `{line}` is not a difytui command line"


# -- keys ------------------------------------------------------------------------------------

_ALIASES = {"esc": "escape", "return": "enter"}
_KEY = re.compile(r"(?i)\b(?:ctrl|alt|shift|meta)\+[a-z0-9]+\b")
_NAMED = {"enter", "escape", "esc", "tab", "pageup", "pagedown", "/", "up", "down"}
_NAMED |= {f"f{n}" for n in range(1, 13)}


def _mentioned_keys(text: str) -> set[str]:
    keys = {k.lower() for k in _KEY.findall(text)}
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in re.split(r"\s*/\s*(?=\S)|\s+", span.strip()):
            if word.lower() in _NAMED:
                keys.add(word.lower())
    keys |= {k.lower() for k in re.findall(r"\*\*(F\d{1,2})\*\*", text)}
    return {_ALIASES.get(k, k) for k in keys}


def _real_keys() -> set[str]:
    """The keys F1 lists, as the console binds them."""
    from difytui.tui.app import DifyConsole
    from difytui.tui.screens.help import _KEY_NAMES, EXTRA_KEYS, binding_rows, help_bindings

    rows = binding_rows(help_bindings(DifyConsole.BINDINGS), {})
    keys: set[str] = set()
    for _id, shown, _what in [*rows, *EXTRA_KEYS]:
        keys |= {k.strip() for k in shown.split(" / ")}
    # ctrl+c: the terminal's interrupt, which the CLI and the simulator handle.
    return {_KEY_NAMES.get(k, k) for k in keys} | {"ctrl+c"}


@pytest.mark.parametrize("source", ["README.md", "demo"])
def test_each_mentioned_key_is_bound(source):
    mentioned = _mentioned_keys(_sources()[source])
    assert mentioned, f"no key found in {source}: the extraction is broken"
    assert mentioned - _real_keys() == set()


def test_the_demo_does_not_send_users_to_the_palette_for_the_app_list():
    # ctrl+p opens the command palette, not the app list.
    assert "app list with `Ctrl+P`" not in _sources()["demo"]
