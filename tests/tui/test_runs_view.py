"""The Runs view (issue 11): every console run is recorded, listed newest first, filtered, opened
(node timeline with each node's outputs), re-run with the same inputs, marked and compared; a
workflow app also lists Dify's own runs, started elsewhere, as server runs."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer

from difytui.client import Dify
from difytui.run_records import RunRecords, summarize
from difytui.store import Store, workspace_key
from difytui.tui.app import DifyConsole
from difytui.tui.models import AppItem
from difytui.tui.run_rows import MARK
from difytui.tui.screens.run_detail import RunDetailScreen
from difytui.tui.screens.runs_view import RunsScreen
from difytui.tui.widgets.json_section import JsonSection
from difytui.tui.widgets.key_line import KeyLine

from .conftest import (
    SIZE,
    ask,
    console,
    open_app,
    requests_to,
    run_done,
    type_text,
    wait_until,
    workspace_for,
)


def recorded(app, n: int):
    """Wait on the records (written on the state thread), not on the clock."""
    records = app.run_recorder.records()
    return lambda: records.count(app.ws_key) >= n


async def open_runs(pilot, app) -> RunsScreen:
    await pilot.press("f3")
    screen = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, RunsScreen) else None)
    await pilot.pause()
    return screen


def row_texts(screen: RunsScreen) -> list[str]:
    table = screen.table
    return [" ".join(cell.plain for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def run_workflow(pilot, app, topic: str):
    pane = await open_app(pilot, app, "report-builder")
    rows = {r.field.variable: r for r in pane.form.rows}
    rows["topic"].control.value = topic
    await pilot.press("ctrl+r")
    await run_done(pilot, pane)
    return pane


async def open_recorded_workflow(pilot, app, topic: str) -> RunDetailScreen:
    """Run report-builder on ``topic``, then open that run's detail from the Runs view."""
    await run_workflow(pilot, app, topic)
    await wait_until(pilot, recorded(app, 1), what="the record")
    screen = await open_runs(pilot, app)
    screen.table.focus()
    await pilot.press("enter")
    return await wait_until(
        pilot, lambda: app.screen if isinstance(app.screen, RunDetailScreen) else None, what="detail"
    )


async def test_two_chat_runs_are_listed_newest_first_and_filtered(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await ask(pilot, app, "support-bot", "first question")
        pane.prompt.focus()
        await type_text(pilot, "second question")
        await pilot.press("enter")
        await run_done(pilot, pane)
        await wait_until(pilot, recorded(app, 2), what="two records")
        screen = await open_runs(pilot, app)
        texts = row_texts(screen)
        assert len(texts) == 2
        assert "second question" in texts[0] and "first question" in texts[1]
        assert all("✓ succeeded" in text for text in texts)
        await pilot.press("slash")
        await type_text(pilot, "first")
        await wait_until(pilot, lambda: screen.table.row_count == 1, what="text filter")
        assert "first question" in row_texts(screen)[0]
        await pilot.press("enter")  # back to the table
        await wait_until(pilot, lambda: screen.table.has_focus, what="the table's focus")
        await pilot.press("s")  # status: succeeded only
        await wait_until(pilot, lambda: screen.status == "succeeded", what="the status filter")
        assert screen.table.row_count == 1
        await pilot.press("s")  # failed: none
        await wait_until(pilot, lambda: screen.table.row_count == 0, what="status filter")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RunsScreen), what="back")


async def test_a_recorded_workflow_run_shows_its_nodes_outputs_and_reruns_with_the_same_inputs(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await run_workflow(pilot, app, "Rivers")
        await wait_until(pilot, recorded(app, 1), what="the record")
        first = requests_to(sim, "/workflows/run")[-1].json["inputs"]
        screen = await open_runs(pilot, app)
        assert screen.server  # a workflow app lists Dify's runs too
        screen.table.focus()
        await pilot.press("enter")
        detail = await wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, RunDetailScreen) else None, what="detail"
        )
        await pilot.pause()
        titles = [node.title for node in detail.nodes]
        assert "Plan sections" in titles
        node = detail.query_one(f"#run-node-{titles.index('Plan sections')}", JsonSection)
        assert node.collapsed and not node.rendered  # bodies wait until opened
        await pilot.press("e")  # every node opens
        await wait_until(pilot, lambda: node.rendered, what="node body")
        body = node.body_text().plain
        assert '"outputs"' in body and '"inputs"' in body
        outputs = detail.nodes[titles.index("Plan sections")].data["outputs"]
        assert all(str(key) in body for key in outputs)
        assert detail.query_one("#run-outputs", JsonSection).rendered
        await pilot.press("ctrl+r")  # re-run: back to the pane, same inputs
        await wait_until(pilot, lambda: len(requests_to(sim, "/workflows/run")) == 2, what="the re-run")
        assert requests_to(sim, "/workflows/run")[-1].json["inputs"] == first
        assert app.screen is app.screen_stack[0]
        await run_done(pilot, app.current_pane)
        await wait_until(pilot, recorded(app, 2), what="the re-run's record")


async def test_dify_runs_started_elsewhere_are_listed_as_server_runs(sim):
    ws = workspace_for(sim)
    with Dify(workspace=ws) as dify:  # another client: the console has no record of it
        inputs = {"topic": "Elsewhere", "audience": "everyone"}
        other = dify.app.workflow.invoke("report-builder", inputs, "blocking")
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await run_workflow(pilot, app, "Here")
        await wait_until(pilot, recorded(app, 1), what="the record")
        screen = await open_runs(pilot, app)
        await wait_until(pilot, lambda: screen.server_pages_done >= 1, what="Dify's runs")
        keys = list(screen.rows)
        assert f"s:{other['workflow_run_id']}" in keys
        assert sum(k.startswith("s:") for k in keys) == 1  # the console's own run is listed once
        server_text = row_texts(screen)[keys.index(f"s:{other['workflow_run_id']}")]
        assert "server" in server_text
        assert requests_to(sim, "/workflows/logs") == []  # a GET, never a POST
        assert any(r.path.endswith("/workflows/logs") for r in sim.requests)
        # its detail comes from GET /workflows/run/:id, inputs decoded, no sys.* variables
        screen.table.move_cursor(row=keys.index(f"s:{other['workflow_run_id']}"))
        await pilot.press("enter")
        detail = await wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, RunDetailScreen) else None, what="detail"
        )
        assert detail.server and detail.record.inputs.get("topic") == "Elsewhere"
        assert not any(k.startswith("sys.") for k in detail.record.inputs)


async def test_dify_runs_page_in_as_the_cursor_nears_the_end(sim, monkeypatch):
    from difytui.tui import runs_worker
    from difytui.tui.screens import runs_view

    monkeypatch.setattr(runs_worker, "SERVER_PAGE", 2)
    monkeypatch.setattr(runs_view, "NEAR_END", 1)  # the next page when the cursor is on the last row
    with Dify(workspace=workspace_for(sim)) as dify:
        for topic in ("One", "Two", "Three"):
            dify.app.workflow.invoke("report-builder", {"topic": topic, "audience": "everyone"}, "blocking")
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, "report-builder")
        screen = await open_runs(pilot, app)
        await wait_until(pilot, lambda: screen.server_pages_done >= 1, what="the first page")
        assert screen.table.row_count == 2 and screen.server_more
        screen.table.focus()
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: screen.table.row_count == 3, what="the second page")
        assert not screen.server_more
        pages = [r.query.get("page") for r in sim.requests if r.path.endswith("/workflows/logs")]
        assert pages == ["1", "2"]


async def test_two_marked_runs_open_the_comparison(sim):
    from difytui.tui.screens.run_compare import CompareRunsScreen

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await run_workflow(pilot, app, "Lakes")
        pane = app.current_pane
        pane.form.rows[0].control.value = "Mountains"
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
        await wait_until(pilot, recorded(app, 2), what="two records")
        screen = await open_runs(pilot, app)
        screen.server = False  # only the local records here
        local = [k for k in screen.rows if k.startswith("r:")]
        screen.table.focus()
        screen.table.move_cursor(row=list(screen.rows).index(local[0]))
        await pilot.press("m")
        screen.table.move_cursor(row=list(screen.rows).index(local[1]))
        await pilot.press("m")
        assert screen.marked == [f"report-builder|{key}" for key in local[:2]]
        assert "◆" in row_texts(screen)[list(screen.rows).index(local[1])]
        await pilot.press("c")
        compare = await wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, CompareRunsScreen) else None, what="compare"
        )
        topics = {compare.left.inputs["topic"], compare.right.inputs["topic"]}
        assert topics == {"Lakes", "Mountains"}


async def test_runs_of_two_apps_can_be_compared(sim):
    from difytui.tui.screens.run_compare import CompareRunsScreen

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, app, "support-bot", "hello there")
        await wait_until(pilot, recorded(app, 1), what="the chat's record")
        screen = await open_runs(pilot, app)
        await pilot.press("m", "escape")
        await run_workflow(pilot, app, "Forests")
        await wait_until(pilot, recorded(app, 2), what="the workflow's record")
        screen = await open_runs(pilot, app)
        assert [m.split("|")[0] for m in screen.marked] == ["support-bot"]  # kept across views
        local = [k for k in screen.rows if k.startswith("r:")]
        screen.table.move_cursor(row=list(screen.rows).index(local[0]))
        await pilot.press("m", "c")
        compare = await wait_until(
            pilot, lambda: app.screen if isinstance(app.screen, CompareRunsScreen) else None, what="compare"
        )
        assert (compare.left.app_id, compare.right.app_id) == ("support-bot", "report-builder")


async def test_a_recorded_run_is_saved_as_a_new_test_case(sim, tmp_path, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    workspace = workspace_for(sim)
    workspace.cases_dir = tmp_path / "cases"
    app = DifyConsole(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_recorded_workflow(pilot, app, "Glaciers")
        await pilot.press("ctrl+s")
        case_file = tmp_path / "cases" / "report-builder.toml"
        await wait_until(pilot, case_file.exists, what="the case file")
        text = case_file.read_text()
        assert 'topic = "Glaciers"' in text and 'app = "report-builder"' in text


async def test_a_recorded_run_is_exported_from_its_detail(sim, tmp_path):
    from difytui.tui.export_actions import ExportPath

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_recorded_workflow(pilot, app, "Deltas")
        await pilot.press("x")
        asked = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, ExportPath) else None)
        target = tmp_path / "run.json"
        asked.query_one("#export-input").value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists, what="the export")
        dumped = target.read_text(encoding="utf-8")
        assert "Deltas" in dumped and "workflow_finished" in dumped


async def test_the_list_reads_one_page_and_the_next_as_the_cursor_nears_the_end(sim):
    from difytui.run_records import summarize
    from difytui.tui.screens.runs_view import PAGE

    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, "support-bot")
        records = app.run_recorder.records()
        total = SIZE[1] * 2 + PAGE + 5  # a first page (the terminal's height and a margin), then two more
        for n in range(total):
            events = [{"event": "message", "answer": f"answer {n}"}, {"event": "message_end"}]
            record, kept = summarize("support-bot", "chat", {}, events, query=f"q{n}", started=1000.0 + n)
            records.add(app.ws_key, record, kept)
        screen = await open_runs(pilot, app)
        first = screen.first_page
        assert SIZE[1] < first < total and screen.table.row_count == first and screen.local_more
        assert f"q{total - 1} " in row_texts(screen)[0]
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: screen.table.row_count > first, what="the next page")
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: screen.table.row_count > first + PAGE, what="the last page")
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: screen.table.row_count == total, what="the last page")
        assert not screen.local_more and "q0 " in row_texts(screen)[-1]


async def test_a_stopped_run_is_recorded_as_stopped_with_its_partial_answer(slow_sim):
    app = console(slow_sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "support-bot")
        pane.prompt.focus()
        await type_text(pilot, "tell me everything")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.active and pane.active.task_id, what="the task id")

        def streamed() -> int:
            """The stream's events so far: the raw log also holds the run's note, and the first
            event with ids twice (once for its ids, once for its text)."""
            return len({id(event) for event in pane.raw.events if "difytui" not in event})

        await wait_until(pilot, lambda: streamed() >= 5, what="five of the answer's events")
        await pilot.press("escape")
        await wait_until(pilot, recorded(app, 1), what="the record")
        [record] = app.run_recorder.records().find(app.ws_key)
        assert record.status == "stopped" and record.query == "tell me everything"
        assert record.answer and record.task_id and record.event_count >= 5


def test_the_console_records_under_its_workspace_key(sim):
    ws = workspace_for(sim)
    app = console(sim)
    assert app.run_recorder.ws == workspace_key(ws)


# -- the view on its own: a host app over a store of made-up records ------------------------------

STARTED = 1764500000.0  # 2025-11-30 10:53:20 UTC: never "today", so the when column is fixed
ITEM = AppItem("report-builder", "Report Builder", "workflow")
WS = "demo|tester"


def store_of(tmp_path, count: int, words: int = 3, partial_below: int = 0) -> RunRecords:
    """``count`` recorded workflow runs, one a minute, the newest on top; every seventh failed, and
    the oldest ``partial_below`` partly succeeded."""
    records = RunRecords(Store(tmp_path / "runs.db"))
    for n in range(count):
        report = " ".join(f"report{n}" for _ in range(words))
        status = "partial-succeeded" if n < partial_below else "failed" if n % 7 == 3 else "succeeded"
        end = {"status": status, "elapsed_time": 1.25 + n / 100,
               "total_tokens": 300 + n, "outputs": {"report": report}}  # fmt: skip
        events = [{"event": "workflow_finished", "task_id": f"t{n}", "workflow_run_id": f"w{n}", "data": end}]
        inputs = {"topic": f"topic {n}"}
        record, kept = summarize(ITEM.id, "workflow", inputs, events, started=STARTED + 60 * n)
        records.add(WS, record, kept)
    return records


class RunsHost(App[None]):
    def __init__(self, records: RunRecords, marks: list[str] | None = None) -> None:
        super().__init__()
        self.records = records
        self.marks = marks

    def on_mount(self) -> None:
        self.push_screen(RunsScreen(ITEM, self.records, WS, None, server=False, marks=self.marks))


async def runs_screen(pilot) -> RunsScreen:
    screen = await wait_until(
        pilot, lambda: pilot.app.screen if isinstance(pilot.app.screen, RunsScreen) else None
    )
    await wait_until(pilot, lambda: screen.table.row_count, what="the first page")
    return screen


async def test_scrolling_past_the_first_page_appends_the_next_keeping_cursor_scroll_and_marks(tmp_path):
    app = RunsHost(store_of(tmp_path, 200))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await runs_screen(pilot)
        first = screen.table.row_count
        assert first < 200
        await pilot.press("down", "m", "down")  # the second run marked, the cursor on the third
        highlighted = screen.highlighted()
        # the scroll alone (a mouse wheel, the scrollbar) nears the end: the cursor does not move
        screen.table.scroll_end(animate=False)
        await wait_until(pilot, lambda: screen.table.row_count > first, what="the next page")
        await pilot.pause()
        assert screen.highlighted() == highlighted and screen.table.cursor_row == 2
        assert screen.table.scroll_y > 0  # the view was not taken back to the cursor
        assert screen.marked == ["report-builder|r:199"]
        assert row_texts(screen)[1].startswith(MARK) and "topic 198 " in row_texts(screen)[1]
        assert "topic 0 " not in " ".join(row_texts(screen))  # only one more page, not all


async def test_a_later_page_with_a_wider_cell_lays_the_rows_shown_out_again(tmp_path, utc):
    # one cell a row (run_lines): the columns are laid out by the view, and must stay in line
    app = RunsHost(store_of(tmp_path, 200, partial_below=150))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await runs_screen(pilot)
        first = screen.table.row_count
        assert "partial" not in " ".join(row_texts(screen))
        await pilot.press("down", "down")
        screen.table.scroll_end(animate=False)
        await wait_until(pilot, lambda: screen.table.row_count > first, what="the next page")
        texts = row_texts(screen)
        assert "✓ partial-succeeded" in texts[-1]
        assert {text.index("11-30 ") for text in texts} == {texts[-1].index("11-30 ")}  # one column
        assert screen.table.cursor_row == 2
        header = screen.table.ordered_columns[0].label.plain
        assert header.index("when") == texts[0].index("11-30 ")


async def test_the_key_line_lists_the_screens_bindings_and_a_click_presses_one(tmp_path):
    app = RunsHost(store_of(tmp_path, 3))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await runs_screen(pilot)
        line = screen.query_one(KeyLine)
        shown = [b for b in RunsScreen.BINDINGS if isinstance(b, Binding) and b.show]
        assert [b.description for b in line.bindings] == [b.description for b in shown]
        assert line.hints() == "/ Filter s Status m Mark c Compare ^r Re-run esc Back"
        assert not screen.query(Footer)  # the light line stands in for Textual's Footer
        start = line.hints().index("s Status")
        await pilot.click(KeyLine, offset=(start + 2, 0))
        assert screen.status == "succeeded"


async def test_long_runs_leave_no_horizontal_scrollbar_at_80_columns(tmp_path):
    app = RunsHost(store_of(tmp_path, 5, words=30))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await runs_screen(pilot)
        await pilot.pause()
        table = screen.table
        assert table.virtual_size.width > table.size.width  # the run column is cut at the edge
        assert not table.show_horizontal_scrollbar  # no stray scrollbar cell under the table


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_runs_view_snapshot(snap_compare, tmp_path, utc, size):
    app = RunsHost(store_of(tmp_path, 12, words=12), marks=["report-builder|r:9"])

    async def first_page(pilot) -> None:
        await runs_screen(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=first_page)
