"""Export from the console (issue 11): ctrl+o and the palette's "Export…" save the chat's
conversation to a path the user confirms; ``export_run`` does the same for a recorded run.
The files are checked, and grepped for the simulator's keys."""

from __future__ import annotations

import json

from recorded_runs import REPORT, assert_no_secret, record_workflow
from textual.widgets import Input

from difytui.run_records import RunRecords
from difytui.store import Store
from difytui.tui.export_actions import ExportPath, export_dir, export_run

from .conftest import SIZE, ask, console, wait_until


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def confirm(pilot, app, path) -> None:
    """The save-path modal is up: replace its path with ``path`` and press Enter."""
    await wait_until(
        pilot, lambda: isinstance(app.screen, ExportPath) and app.screen.query("#export-input"), what="modal"
    )
    field = app.screen.query_one("#export-input", Input)
    assert field.value.startswith(str(export_dir()))  # the proposed path
    field.value = str(path)
    await pilot.press("enter")


async def test_ctrl_o_exports_the_conversation_as_markdown_then_json(sim, tmp_path):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await ask(pilot, app, "support-bot", "hello there")
        target = tmp_path / "out" / "chat.md"  # a folder that does not exist yet
        await pilot.press("ctrl+o")
        await confirm(pilot, app, target)
        await wait_until(pilot, lambda: any("Exported" in n for n in notices(app)), what="export notice")
        assert f"Exported the conversation to {target}" in notices(app)
        text = target.read_text(encoding="utf-8")
        assert "> hello there" in text and "**Assistant:**" in text and pane.conversation_id in text
        assert_no_secret(text, sim)

        # the palette's entry, to JSON this time (by the suffix)
        await pilot.press("ctrl+p")
        await pilot.press(*"Export")
        await pilot.press("enter")
        target = tmp_path / "chat.json"
        await confirm(pilot, app, target)
        await wait_until(pilot, lambda: target.exists() and target.stat().st_size, what="json file")
        await wait_until(pilot, lambda: f"Exported the conversation to {target}" in notices(app))
        dumped = json.loads(target.read_text(encoding="utf-8"))
        assert dumped["conversation_id"] == pane.conversation_id
        assert [m["query"] for m in dumped["messages"]] == ["hello there"]
        assert_no_secret(target.read_text(encoding="utf-8"), sim)


async def test_escape_exports_nothing_and_a_chat_without_a_conversation_says_so(sim, tmp_path):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await ask(pilot, app, "support-bot", "hi")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportPath))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportPath))
        assert not export_dir().exists()
        pane.action_new_conversation()
        await pilot.pause()
        pane.prompt.focus()
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: any("No conversation yet" in n for n in notices(app)))
        assert not isinstance(app.screen, ExportPath)


async def test_export_run_saves_a_recorded_run(sim, tmp_path):
    with Store(tmp_path / "runs.db") as store:
        record, events = record_workflow(sim, RunRecords(store), REPORT)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        export_run(app, record, events)
        target = tmp_path / "run.md"
        await confirm(pilot, app, target)
        await wait_until(pilot, lambda: f"Exported run #{record.id} to {target}" in notices(app))
        text = target.read_text(encoding="utf-8")
        assert text.startswith(f"# Run #{record.id} · report-builder (workflow)") and "## Nodes" in text
        assert_no_secret(text, sim)
