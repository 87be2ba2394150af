"""A worker's messages are handled by the widget that started it and go no further.

Textual's ``Message.__init_subclass__`` sets ``bubble`` on every subclass (True unless the class
statement says otherwise), so the ``bubble = False`` our message classes wrote in their bodies was
undone: each answer token was dispatched four times (pane, panes switcher, screen, app), three
quarters of the loop's message work in a burst (benchmarks/tui_stream.py).
"""

from __future__ import annotations

import inspect

from textual.message import Message

from difytui.tui import bench_worker, messages, runs_worker
from difytui.tui.app import DifyConsole
from difytui.tui.messages import WorkerMessage

from .conftest import ask, workspace_for


def worker_messages() -> list[type[Message]]:
    found = []
    for module in (messages, runs_worker, bench_worker):
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, WorkerMessage) and value is not WorkerMessage:
                found.append(value)
    return found


def test_no_worker_message_bubbles():
    classes = worker_messages()
    assert len(classes) > 30  # the run messages, history, feedback, runs view and test bench
    assert [c.__name__ for c in classes if c.bubble] == []


class Watching(DifyConsole):
    """Records every run message that reaches the app (none should)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reached: list[str] = []

    def on_answer_delta(self, message: messages.AnswerDelta) -> None:
        self.reached.append(type(message).__name__)

    def on_run_ids(self, message: messages.RunIds) -> None:
        self.reached.append(type(message).__name__)

    def on_run_finished(self, message: messages.RunFinished) -> None:
        self.reached.append(type(message).__name__)


async def test_a_runs_messages_stop_at_its_pane(sim):
    app = Watching(workspace_for(sim))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ask(pilot, app, "support-bot", "hello")
        assert pane.log_view.query("AnswerView")  # the pane did get the answer
        assert app.reached == []
