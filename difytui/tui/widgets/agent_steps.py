"""An agent's tool calls, one folded block each, above its answer.

Dify re-sends an ``agent_thought`` (same ``id``) as it fills in: empty, then with ``tool`` and
``tool_input``, then with ``observation``. Each thought that calls a tool becomes one
:class:`AgentStep`: folded, its title names the tool, a short form of the input and whether the
result is in; Enter or a click shows the input and the observation as indented JSON. Tools wrap
JSON in JSON (``{"web_search": "{\\"forecast\\": …}"}``): strings that hold JSON are decoded first.
The thought's text is the answer's own text (``agent_message``), so it is not repeated here.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from difytui.tui.safe_text import json_text, literal, one_line

#: Characters of the tool input shown in a folded step's title.
TITLE_INPUT = 60


def decoded(value: Any) -> Any:
    """``value`` with every string that holds a JSON object or array replaced by what it holds."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                return decoded(json.loads(stripped))
            except (ValueError, RecursionError):
                return value
        return value
    if isinstance(value, dict):
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def _tools(thought: dict[str, Any]) -> list[str]:
    """Dify joins several tools of one thought with ';'."""
    return [name for name in str(thought.get("tool") or "").split(";") if name.strip()]


def _label(name: str, labels: Any) -> str:
    label = labels.get(name) if isinstance(labels, dict) else None
    if isinstance(label, dict):
        label = label.get("en_US") or next((v for v in label.values() if isinstance(v, str)), None)
    return one_line(label) if isinstance(label, str) and label.strip() else one_line(name)


def _unwrapped(value: Any, tools: list[str]) -> Any:
    """A single tool's ``{"tool": x}`` wrapper is the title's job: show ``x``."""
    if len(tools) == 1 and isinstance(value, dict) and list(value) == tools:
        return value[tools[0]]
    return value


def shown(value: Any) -> Text:
    """Plain text as it is; anything structured as indented JSON."""
    if isinstance(value, str):
        return literal(value)
    return json_text(value)


def paragraph_break(answer: str) -> str:
    """What the answer needs after a tool call so the next round starts a new block (a heading
    streamed right after a tool call would otherwise run on in the previous round's paragraph)."""
    if not answer.strip() or answer.endswith("\n\n"):
        return ""
    return "\n" if answer.endswith("\n") else "\n\n"


class AgentStep(Collapsible):
    """One tool call: folded to a title line; the input and the observation inside."""

    def __init__(self, thought: dict[str, Any]) -> None:
        self._input = Static("", classes="agent-step-input", markup=False)
        self._observation = Static("", classes="agent-step-observation", markup=False)
        super().__init__(
            Static(Text("input", style="bold dim"), classes="agent-step-heading", markup=False),
            self._input,
            Static(Text("observation", style="bold dim"), classes="agent-step-heading", markup=False),
            self._observation,
            title=_title(thought),
            collapsed=True,
            classes="agent-step",
        )
        self.thought: dict[str, Any] = {}
        self.update(thought)

    @property
    def done(self) -> bool:
        return bool(self.thought.get("observation"))

    def update(self, thought: dict[str, Any]) -> None:
        self.thought = thought
        tools = _tools(thought)
        tool_input = _unwrapped(decoded(thought.get("tool_input") or ""), tools)
        observation = _unwrapped(decoded(thought.get("observation") or ""), tools)
        self.title = _title(thought)
        self._input.update(shown(tool_input) if tool_input != "" else Text("(none)", style="dim"))
        waiting = Text("(waiting for the tool…)", style="dim italic")
        self._observation.update(shown(observation) if self.done else waiting)


def _title(thought: dict[str, Any]) -> Content:
    """ "🔧 Web Search  {"query": "Kyoto"}  ✓" (… while the tool runs)."""
    tools = _tools(thought)
    tool_input = _unwrapped(decoded(thought.get("tool_input") or ""), tools)
    names = ", ".join(_label(name, thought.get("tool_labels")) for name in tools)
    brief = one_line(tool_input if isinstance(tool_input, str) else _compact(tool_input))
    if len(brief) > TITLE_INPUT:
        brief = brief[: TITLE_INPUT - 1] + "…"
    state = "✓" if thought.get("observation") else "…"
    # Content, not a str: a str title would be parsed as markup.
    return Content(f"🔧 {names}  {brief}  {state}" if brief else f"🔧 {names}  {state}")


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        return repr(value)


class AgentSteps(Vertical):
    """The tool calls of one agent run, in order."""

    def __init__(self) -> None:
        super().__init__(classes="agent-steps")
        self.thoughts: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, AgentStep] = {}

    async def apply(self, event: dict[str, Any]) -> bool:
        """Merge one ``agent_thought``; True when it is a tool call seen for the first time."""
        key = str(event.get("id"))
        thought = self.thoughts[key] = {**self.thoughts.get(key, {}), **event}
        if not _tools(thought):
            self.display = bool(self.steps)
            return False
        step = self.steps.get(key)
        if step is not None:
            step.update(thought)
            return False
        step = self.steps[key] = AgentStep(thought)
        await self.mount(step)
        self.display = True
        return True
