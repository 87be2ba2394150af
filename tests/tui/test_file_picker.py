"""The file picker on file inputs (issue 12 point 6), keyboard only: filtered by the input's types,
bounded by a file list's max_length, Escape leaves the input alone, a picked file is uploaded and
referenced by the run; a file over Dify's size limit is refused before any upload; big uploads
show their progress in the stats line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style

from difytui.tui.screens.file_picker import FilePicker
from difytui.tui.widgets.stats import StatsLine

from .conftest import console, open_app, requests_to, run_done, wait_until

SIZE = (100, 32)
#: The fixed tree the pickers show (the snapshots too): names, sizes in bytes.
TREE = {
    "docs/notes.txt": 12,
    "docs/report.pdf": 300,
    "photos/beach.png": 200,
    "photos/raw.bin": 5,
    "readme.md": 40,
    "tool.exe": 8,
    ".secret.txt": 4,
}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """``~/project`` (HOME is the test's), the working folder, holding :data:`TREE`."""
    home = tmp_path / "home"
    root = home / "project"
    for name, size in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(root)
    return root


def error_of(row) -> str:
    error = row.query_one(".field-error")
    return str(error.render()) if error.display else ""


def labels(tree) -> list[str]:
    """The loaded nodes' names, depth first (the tree's lines, expanded or not)."""
    found: list[str] = []

    def walk(node) -> None:
        for child in node.children:
            found.append(str(child.label))
            walk(child)

    walk(tree.root)
    return found


def node_named(tree, name: str):
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        if str(node.label) == name:
            return node
        stack.extend(node.children)
    return None


async def open_picker(pilot, row) -> FilePicker:
    """Focus the row's input, ctrl+o, wait until the tree has listed its folder."""
    row.control.focus()
    await pilot.press("ctrl+o")
    picker = await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker) and pilot.app.screen)
    await wait_until(pilot, lambda: picker.tree.root.children, what="the folder's entries")
    await pilot.pause()
    return picker


async def go_to(pilot, picker: FilePicker, name: str) -> None:
    """Down arrows to the node called ``name`` (its folder opened by the caller)."""
    tree = picker.tree
    await wait_until(pilot, lambda: node_named(tree, name), what=name)
    target = node_named(tree, name)
    for _ in range(30):
        if tree.cursor_node is target:
            return
        await pilot.press("down" if tree.cursor_line < target.line else "up")
    raise AssertionError(f"could not reach {name}")


async def open_folder(pilot, picker: FilePicker, name: str) -> None:
    await go_to(pilot, picker, name)
    await pilot.press("enter")
    node = node_named(picker.tree, name)
    await wait_until(pilot, lambda: node.is_expanded and node.children, what=f"{name}'s entries")


def rows_of(pane) -> dict:
    return {row.field.variable: row for row in pane.form.rows}


async def attach_from_docs(pilot, name: str):
    """Report Builder with a topic, and the docs file ``name`` picked (Space, ctrl+s) as attachment."""
    pane = await open_app(pilot, pilot.app, "report-builder")
    rows = rows_of(pane)
    rows["topic"].control.value = "Q3"
    picker = await open_picker(pilot, rows["attachments"])
    await open_folder(pilot, picker, "docs")
    await go_to(pilot, picker, name)
    await pilot.press("space", "ctrl+s")
    await wait_until(pilot, lambda: pilot.app.screen is not picker, what="the picker to close")
    return pane, rows


async def test_a_picked_file_is_uploaded_and_the_run_references_it(sim, project):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane, rows = await attach_from_docs(pilot, "report.pdf")
        assert rows["attachments"].control.value == "~/project/docs/report.pdf"
        assert app.focused is rows["attachments"].control  # back where ctrl+o was pressed

        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
    (upload,) = sim.state.uploads.values()
    assert upload["name"] == "report.pdf" and upload["data"] == (project / "docs/report.pdf").read_bytes()
    sent = requests_to(sim, "/workflows/run")[-1].json["inputs"]["attachments"]
    assert sent == [{"type": "document", "transfer_method": "local_file", "upload_file_id": upload["id"]}]


async def test_the_tree_shows_only_the_files_the_input_takes(sim, project):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")  # attachments: documents and images
        picker = await open_picker(pilot, rows_of(pane)["attachments"])
        await open_folder(pilot, picker, "docs")
        await open_folder(pilot, picker, "photos")
        assert sorted(labels(picker.tree)) == [
            "beach.png",
            "docs",
            "notes.txt",
            "photos",
            "readme.md",
            "report.pdf",
        ]
        await pilot.press("escape")

        pane = await open_app(pilot, app, "trip-planner")  # photo: images only
        picker = await open_picker(pilot, rows_of(pane)["photo"])
        await open_folder(pilot, picker, "photos")
        assert sorted(labels(picker.tree)) == ["beach.png", "docs", "photos"]
        await pilot.press("backspace")  # up to the parent folder, and back
        await wait_until(pilot, lambda: labels(picker.tree) == ["project"], what="the home folder")
        assert str(picker.tree.render_label(picker.tree.root, Style(), Style())) == "~"
        await pilot.press("down", "enter")
        await wait_until(
            pilot, lambda: "readme.md" not in labels(picker.tree) and node_named(picker.tree, "photos")
        )
        await open_folder(pilot, picker, "photos")
        await go_to(pilot, picker, "beach.png")
        await pilot.press("enter")  # one file: Enter picks it
        await wait_until(pilot, lambda: app.screen is not picker, what="the picker to close")
        assert rows_of(pane)["photo"].control.value == "~/project/photos/beach.png"


async def test_a_file_list_takes_at_most_max_length_files_urls_included(sim, project):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")  # attachments: max_length 3
        row = rows_of(pane)["attachments"]
        row.control.value = "https://example.com/brief.pdf"
        picker = await open_picker(pilot, row)
        assert picker.rules.max_files == 2  # the URL holds one of the three places
        await open_folder(pilot, picker, "docs")
        for name in ("notes.txt", "report.pdf", "readme.md"):
            await go_to(pilot, picker, name)
            await pilot.press("space")
        chosen = str(picker.query_one("#picker-chosen").render())
        assert chosen == "Attachments takes at most 2 files: unselect one first"
        assert [p.name for p in picker.chosen] == ["notes.txt", "report.pdf"]
        await go_to(pilot, picker, "notes.txt")
        await pilot.press("space")  # unselects
        await go_to(pilot, picker, "readme.md")
        await pilot.press("space", "ctrl+s")
        await wait_until(pilot, lambda: app.screen is not picker, what="the picker to close")
        assert row.control.value == (
            "https://example.com/brief.pdf, ~/project/docs/report.pdf, ~/project/readme.md"
        )

        picker = await open_picker(pilot, row)  # opened again: what the input holds is selected,
        assert [p.name for p in picker.chosen] == ["report.pdf", "readme.md"]
        assert picker.tree.path == project / "docs"  # in the folder of the first file
        ticked = picker.tree.render_label(node_named(picker.tree, "report.pdf"), Style(), Style())
        assert ticked.plain == "✓ report.pdf"


async def test_escape_leaves_the_input_as_it_was(sim, project):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        row = rows_of(pane)["attachments"]
        row.control.value = "readme.md"
        picker = await open_picker(pilot, row)
        await open_folder(pilot, picker, "docs")
        await go_to(pilot, picker, "notes.txt")
        await pilot.press("space", "escape")
        await wait_until(pilot, lambda: app.screen is not picker, what="the picker to close")
        assert row.control.value == "readme.md"
        await pilot.press("x")  # typing still works
        assert row.control.value == "readme.mdx"


async def test_a_file_over_difys_size_limit_is_refused_before_any_upload(sim, project):
    with (project / "docs" / "scan.pdf").open("wb") as handle:
        handle.truncate(16 * 1024 * 1024)  # sparse; the demo's limit for documents is 15 MB
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane, rows = await attach_from_docs(pilot, "scan.pdf")
        message = "✗ Attachments: scan.pdf is 16.0 MB, over Dify's upload limit of 15 MB for documents"
        assert error_of(rows["attachments"]) == message  # at once, not only at ctrl+r
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert error_of(rows["attachments"]) == message
        assert pane.active is None
    assert not requests_to(sim, "/files/upload") and not requests_to(sim, "/workflows/run")


async def test_a_big_upload_shows_its_progress_in_the_stats_line(sim, project, monkeypatch):
    big = project / "docs" / "big.pdf"
    big.write_bytes(bytes(range(256)) * 6000)  # 1.5 MB: over the 1 MB from which progress shows
    shown: list[tuple[str, int, int, str]] = []
    original = StatsLine.show_upload

    def spy(self, name: str, sent: int, total: int) -> None:
        original(self, name, sent, total)
        shown.append((name, sent, total, str(self.render())))

    monkeypatch.setattr(StatsLine, "show_upload", spy)
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        rows = rows_of(pane)
        rows["topic"].control.value = "Q3"
        rows["attachments"].control.value = f"{big}, {project / 'readme.md'}"  # the small one shows none
        await pilot.press("ctrl+r")
        await run_done(pilot, pane)
    size = big.stat().st_size
    assert {name for name, *_ in shown} == {"big.pdf"}
    sent = [s for _, s, _, _ in shown]
    assert len(sent) > 2 and sent == sorted(set(sent)) and sent[-1] == size
    assert shown[0][3].startswith("uploading big.pdf · ") and "of 1.5 MB (" in shown[0][3]
    assert shown[-1][3] == "uploaded big.pdf · 1.5 MB"
    assert len(requests_to(sim, "/files/upload")) == 2


async def _picker_with_a_file_chosen(pilot) -> None:
    pane = await open_app(pilot, pilot.app, "report-builder")
    picker = await open_picker(pilot, rows_of(pane)["attachments"])
    await open_folder(pilot, picker, "docs")
    await go_to(pilot, picker, "report.pdf")
    await pilot.press("space")
    for widget in pilot.app.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_picker_snapshot(snap_compare, sim, project, size):
    assert snap_compare(console(sim), terminal_size=size, run_before=_picker_with_a_file_chosen)
