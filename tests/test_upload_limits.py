"""File uploads: Dify's size limits checked before anything is sent (library and CLI), and the
upload's progress reported by both clients (issue 12 point 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from difytui.cli import main
from difytui.errors import DifyAPIError
from difytui.form_files import MB, SizeLimits, accepts_name, check_sizes, size_problem
from difytui.forms import parse_form
from difytui.sim.apps import DEMO_APPS

LIMITS = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
}


def sized(path: Path, size: int) -> Path:
    """A file of ``size`` bytes (sparse: cheap however big)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def uploads(sim) -> list:
    return [r for r in sim.requests if r.path.endswith("/files/upload")]


def test_limits_come_from_system_parameters_by_file_type(tmp_path):
    limits = SizeLimits.of({"system_parameters": LIMITS})
    assert (limits.limit_for("a.PNG"), limits.limit_for("a.mp3"), limits.limit_for("a.mov")) == (10, 50, 100)
    assert limits.limit_for("a.pdf") == limits.limit_for("a.bin") == 15
    assert SizeLimits.of({}).limit_for("a.png") is None  # not stated: not checked (Dify still says 413)
    assert size_problem(sized(tmp_path / "ok.png", 10 * MB), limits) is None  # the limit itself is allowed


def test_a_too_big_file_is_named_with_its_size_and_the_limit(tmp_path):
    limits = SizeLimits.of({"system_parameters": LIMITS})
    big = sized(tmp_path / "scan.pdf", 16 * MB + MB // 2)
    assert size_problem(big, limits) == "scan.pdf is 16.5 MB, over Dify's upload limit of 15 MB for documents"
    photo = sized(tmp_path / "beach.jpg", 10 * MB + 1)  # 10.0 MB next to a 10 MB limit: the bytes say why
    assert size_problem(photo, limits) == (
        "beach.jpg is 10.0 MB (10,485,761 bytes), over Dify's upload limit of 10 MB for images"
    )
    field = next(
        f for f in parse_form(DEMO_APPS["report-builder"]["parameters"]) if f.variable == "attachments"
    )
    small = sized(tmp_path / "notes.txt", 10)
    assert check_sizes(field, [small, big], limits, naming="label") == (
        "Attachments: scan.pdf is 16.5 MB, over Dify's upload limit of 15 MB for documents"
    )


def test_a_name_is_accepted_by_the_inputs_types_and_extensions():
    assert accepts_name("a.png", ("image",), ())
    assert not accepts_name("a.pdf", ("image",), ())
    assert accepts_name("a.pdf", ("image", "document"), ())
    assert accepts_name("a.log", ("custom",), (".log",)) and not accepts_name("a.bin", ("custom",), (".log",))
    assert accepts_name("a.pdf", (), ())  # no type listed: every known type
    assert not accepts_name("a.bin", (), ())  # …but custom files need their extension listed, as in Dify


def test_cli_refuses_a_too_big_file_before_uploading_anything(capsys, config, sim, tmp_path):
    big = sized(tmp_path / "scan.pdf", 16 * MB)
    code = main(["--config", config, "invoke", "report-builder", "-i", "topic=x", "-i", f"attachments={big}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "attachments: scan.pdf is 16.0 MB, over Dify's upload limit of 15 MB for documents" in err
    assert not uploads(sim) and not [r for r in sim.requests if r.path == "/v1/workflows/run"]


def test_cli_refuses_a_too_big_attached_file(capsys, config, sim, tmp_path):
    photo = sized(tmp_path / "beach.png", 12 * MB)
    code = main(
        ["--config", config, "invoke", "trip-planner", "-q", "hi", "-i", "city=Oslo", "--file", str(photo)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "--file beach.png is 12.0 MB, over Dify's upload limit of 10 MB for images" in err
    assert not uploads(sim)


def test_upload_reports_its_progress_to_the_end(api, sim, tmp_path):
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF" + bytes(range(256)) * 6000)  # ~1.5 MB
    seen: list[tuple[int, int]] = []
    mapping = api(
        "app.upload", "report-builder", doc, progress=lambda sent, total: seen.append((sent, total))
    )
    size = doc.stat().st_size
    assert mapping["transfer_method"] == "local_file" and mapping["type"] == "document"
    assert sim.state.uploads[mapping["upload_file_id"]]["data"] == doc.read_bytes()
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert [s for s, _ in seen] == sorted({s for s, _ in seen})  # strictly growing
    assert {t for _, t in seen} == {size}


def test_difys_wordless_413_names_the_file_and_its_size(api, tmp_path):
    big = sized(tmp_path / "scan.pdf", 16 * MB)  # the simulator's limit for documents is Dify's 15 MB
    with pytest.raises(DifyAPIError) as caught:
        api("app.upload", "report-builder", big)
    assert caught.value.status == 413
    assert caught.value.message == "scan.pdf (16.0 MB) is over the server's upload size limit"
