from __future__ import annotations

import json
from pathlib import Path

import pytest

from difytui.errors import DifyError
from difytui.forms import (
    Field,
    FormError,
    as_text,
    coerce,
    defaults,
    file_type_of,
    file_upload_enabled,
    form_variables,
    join_file_list,
    parse_form,
    restore,
    split_file_list,
    unknown_inputs,
    validate,
)

CAPTURES = Path("/work/shared/captures/service-api")

# Response bodies copied verbatim from a real Dify 1.14.2 (captures/service-api/*.http), so the
# tests run anywhere; test_copies_match_captures checks them against the captures when present.
CAPTURED = {
    "wf_parameters.http": (
        '{"opening_statement":null,"suggested_questions":[],"suggested_questions_after_answer":{"en'
        'abled":false},"speech_to_text":{"enabled":false},"text_to_speech":{"enabled":false,"voice"'
        ':"","language":""},"retriever_resource":{"enabled":false},"annotation_reply":{"enabled":fa'
        'lse},"more_like_this":{"enabled":false},"user_input_form":[{"text-input":{"label":"name","'
        'max_length":48,"options":[],"required":true,"type":"text-input","variable":"name"}},{"numb'
        'er":{"label":"count","options":[],"required":false,"type":"number","variable":"count"}}],"'
        'sensitive_word_avoidance":{"enabled":false},"file_upload":{},"system_parameters":{"image_f'
        'ile_size_limit":10,"video_file_size_limit":100,"audio_file_size_limit":50,"file_size_limit'
        '":15,"workflow_file_upload_limit":10}}'
    ),
    "chat_parameters.http": (
        '{"opening_statement":"Hello from chat-echo","suggested_questions":["ping?"],"suggested_que'
        'stions_after_answer":{"enabled":false},"speech_to_text":{"enabled":false},"text_to_speech"'
        ':{"enabled":false,"voice":"","language":""},"retriever_resource":{"enabled":false},"annota'
        'tion_reply":{"enabled":false},"more_like_this":{"enabled":false},"user_input_form":[{"text'
        '-input":{"label":"city","max_length":48,"options":[],"required":true,"type":"text-input","'
        'variable":"city"}}],"sensitive_word_avoidance":{"enabled":false},"file_upload":{"enabled":'
        'false},"system_parameters":{"image_file_size_limit":10,"video_file_size_limit":100,"audio_'
        'file_size_limit":50,"file_size_limit":15,"workflow_file_upload_limit":10}}'
    ),
    "chat_missing_input_blocking.http": (
        '{"code":"invalid_param","message":"city is required in input form","status":400}'
    ),
    "wf_run_wrong_type_input.http": (
        '{"code":"invalid_param","message":"count in input form must be a valid number","status":400}'
    ),
}


def captured_body(name: str) -> dict:
    return json.loads(CAPTURED[name])


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_copies_match_captures(name):
    path = CAPTURES / name
    if not path.exists():
        pytest.skip("captures not available here")
    line = [ln for ln in path.read_text().splitlines() if ln.startswith("{")][-1]
    assert json.loads(line) == captured_body(name)


# The workflow example of the protocol notes §5.2 (every control type, `type` repeated inside).
WORKFLOW_FORM = [
    {"text-input": {"variable": "name", "label": "Name", "type": "text-input", "required": True,
                    "max_length": 48, "options": [], "default": "", "hide": False}},
    {"paragraph": {"variable": "brief", "label": "Brief", "type": "paragraph", "required": False,
                   "max_length": 2000}},
    {"select": {"variable": "tone", "label": "Tone", "type": "select", "required": True,
                "options": ["formal", "casual"], "default": "formal"}},
    {"number": {"variable": "n", "label": "Count", "type": "number", "required": False,
                "default": 3}},
    {"checkbox": {"variable": "dry_run", "label": "Dry run", "type": "checkbox",
                  "required": False, "default": False}},
    {"file": {"variable": "doc", "label": "Document", "type": "file", "required": True,
              "allowed_file_types": ["document"], "allowed_file_extensions": [],
              "allowed_file_upload_methods": ["local_file", "remote_url"]}},
    {"file-list": {"variable": "imgs", "label": "Images", "type": "file-list", "required": False,
                   "max_length": 5, "allowed_file_types": ["image"],
                   "allowed_file_extensions": [], "allowed_file_upload_methods": ["local_file"]}},
    {"json_object": {"variable": "meta", "label": "Meta", "type": "json_object",
                     "required": False, "json_schema": "{\"type\":\"object\"}"}},
]  # fmt: skip


@pytest.fixture
def fields() -> list[Field]:
    return parse_form({"user_input_form": WORKFLOW_FORM})


@pytest.fixture
def doc(tmp_path) -> Path:
    path = tmp_path / "report.pdf"
    path.write_text("%PDF")
    return path


def by_name(fields: list[Field]) -> dict[str, Field]:
    return {f.variable: f for f in fields}


# --- parsing ------------------------------------------------------------------------------


def test_parse_captured_workflow_parameters():
    fields = parse_form(captured_body("wf_parameters.http"))
    assert [(f.variable, f.control, f.required) for f in fields] == [
        ("name", "text-input", True),
        ("count", "number", False),
    ]
    assert fields[0].max_length == 48 and fields[0].label == "name"


def test_parse_captured_chat_parameters():
    fields = parse_form(captured_body("chat_parameters.http"))
    assert fields == [
        Field(variable="city", label="city", control="text-input", required=True, max_length=48)
    ]


def test_parse_every_control(fields):
    f = by_name(fields)
    assert [x.control for x in fields] == [
        "text-input", "paragraph", "select", "number", "checkbox", "file", "file-list", "json_object",
    ]  # fmt: skip
    assert f["tone"].options == ("formal", "casual") and f["tone"].default == "formal"
    assert f["n"].default == 3 and f["dry_run"].default is False
    assert f["doc"].allowed_file_types == ("document",)
    assert f["doc"].allowed_file_upload_methods == ("local_file", "remote_url")
    assert f["imgs"].max_length == 5
    assert f["meta"].json_schema == {"type": "object"}  # the JSON string is decoded
    assert f["name"].default == "" and not f["name"].hidden


def test_parse_easy_ui_shape_and_extras():
    form = [
        {"text-input": {"label": "Name", "variable": "name", "required": True, "max_length": 48,
                        "default": "", "hide": True, "placeholder": "Your name"}},
        {"select": {"label": "Lang", "variable": "lang", "options": ["en", "fr"]}},
        {"paragraph": {"variable": "p", "description": "Tell me more", "max_length": 0}},
        {"external_data_tool": {"label": "Weather", "variable": "weather", "enabled": True,
                                "config": {}, "type": "api"}},
        {"future-control": {"variable": "later"}},
        {"number": {"label": "no variable"}},
        {"text-input": "not a dict"},
        {"a": {}, "b": {}},
        "junk",
    ]  # fmt: skip
    fields = parse_form(form)  # a bare list works too
    assert [f.variable for f in fields] == ["name", "lang", "p", "weather"]
    name, lang, p, weather = fields
    assert name.hidden and name.placeholder == "Your name" and name.hint == "Your name"
    assert lang.label == "Lang" and not lang.required and lang.default is None
    assert p.label == "p" and p.hint == "Tell me more" and p.max_length is None
    assert weather.read_only and weather.control == "external_data_tool"


def test_parse_tolerates_missing_form():
    assert parse_form({}) == []
    assert parse_form({"user_input_form": None}) == []


def test_defaults(fields):
    assert defaults(fields) == {"tone": "formal", "n": 3, "dry_run": False}


# --- validation: Dify's rules (§6), in readable words -------------------------------------


def test_valid_values_pass(fields, doc):
    values = {"name": "Ann", "tone": "casual", "n": "4", "doc": doc, "meta": {"a": 1}}
    assert validate(fields, values) == {}


def test_required(fields):
    errors = validate(fields, {})
    assert errors == {
        "name": "name is required",
        "tone": "tone is required",
        "doc": "doc is required",
    }


def test_required_captured_message():
    # what the real server rejects (captures/service-api/chat_missing_input_blocking.http) is
    # rejected here first, in fewer words
    fields = parse_form(captured_body("chat_parameters.http"))
    dify = captured_body("chat_missing_input_blocking.http")["message"]
    assert dify == "city is required in input form"
    assert validate(fields, {}) == {"city": "city is required"}


def test_wrong_number_captured_message():
    fields = parse_form(captured_body("wf_parameters.http"))
    dify = captured_body("wf_run_wrong_type_input.http")["message"]
    assert dify == "count in input form must be a valid number"
    assert validate(fields, {"name": "Alice", "count": "three"}) == {"count": "count must be a number"}


def test_messages_name_fields_by_label_for_a_form(fields):
    # The TUI's form shows labels, so its messages use them (issue 10); the CLI keeps variables.
    values = {"name": "x" * 49, "n": "lots", "meta": [1], "tone": "rude"}
    assert validate(fields, values, naming="label") == {
        "name": "Name must be at most 48 characters",
        "n": "Count must be a number",
        "meta": 'Meta must be a JSON object, e.g. {"key": "value"}',
        "tone": "Tone must be one of: formal, casual",
        "doc": "Document is required",
    }
    with pytest.raises(FormError) as info:
        coerce(fields, {"dry_run": "maybe"}, naming="label")
    assert info.value.message == "Dry run must be true or false (yes/no, on/off, 1/0)"
    with pytest.raises(FormError) as info:
        coerce(fields, {"meta": "{nope"}, naming="label")
    assert info.value.message.startswith("Meta is not valid JSON")


def test_a_blank_label_falls_back_to_the_variable():
    field = Field("city", "  ", "text-input", required=True)
    assert validate([field], {}, naming="label") == {"city": "city is required"}


def test_optional_missing_uses_default_and_validates_it():
    field = Field("tone", "Tone", "select", options=("a", "b"), default="c")
    assert validate([field], {}) == {"tone": "tone must be one of: a, b"}
    assert validate([Field("x", "x", "text-input")], {}) == {}


def test_text_must_be_string(fields):
    errors = validate(fields, {"name": 5, "tone": ["formal"], "brief": {"a": 1}})
    assert errors["name"] == "name must be text"
    assert errors["tone"] == "tone must be text"
    assert errors["brief"] == "brief must be text"


def test_select_options(fields):
    errors = validate(fields, {"tone": "rude"})
    assert errors["tone"] == "tone must be one of: formal, casual"


def test_max_length(fields):
    assert validate(fields, {"name": "x" * 48}).get("name") is None
    errors = validate(fields, {"name": "x" * 49})
    assert errors["name"] == "name must be at most 48 characters"


def test_empty_required_text_is_accepted_like_dify(fields):
    # Dify only rejects a missing/null value as "required"
    assert "name" not in validate(fields, {"name": ""})


@pytest.mark.parametrize(
    ("value", "ok"),
    [(3, True), (2.5, True), ("7", True), ("7.5", True), ("  ", True), ("", True),
     ("seven", False), ("1e3", False), ([1], False), ({"a": 1}, False)],
)  # fmt: skip
def test_number(fields, value, ok):
    errors = validate(fields, {"n": value})
    assert errors.get("n") == (None if ok else "n must be a number")


def test_file_must_be_a_file(fields):
    errors = validate(fields, {"doc": "report.pdf"})
    assert errors["doc"] == "doc must be a file (a path or an http(s):// URL)"
    # a Dify mapping, a URL and a path are all files to the client
    ok = {"type": "document", "transfer_method": "remote_url", "url": "https://x/a.pdf"}
    assert "doc" not in validate(fields, {"doc": ok})
    assert "doc" not in validate(fields, {"doc": "https://example.com/a.pdf"})


def test_file_list(fields, tmp_path):
    imgs = []
    for i in range(6):
        path = tmp_path / f"p{i}.png"
        path.write_bytes(b"\x89PNG")
        imgs.append(path)
    assert "imgs" not in validate(fields, {"imgs": imgs[:5]})
    errors = validate(fields, {"imgs": imgs})
    assert errors["imgs"] == "imgs can take at most 5 files"
    errors = validate(fields, {"imgs": imgs[0]})
    assert errors["imgs"] == "imgs must be a list of files (paths or http(s):// URLs)"
    errors = validate(fields, {"imgs": ["a.png"]})
    assert errors["imgs"] == "imgs must be a list of files (paths or http(s):// URLs)"


def test_optional_file_blank_is_unset(fields):
    assert "imgs" not in validate(fields, {"imgs": ""})
    assert "imgs" not in validate(fields, {"imgs": []})
    required = Field("doc", "Doc", "file", required=True)
    assert validate([required], {"doc": ""}) == {"doc": "doc must be a file (a path or an http(s):// URL)"}


def test_json_object(fields):
    assert "meta" not in validate(fields, {"meta": {}})
    assert "meta" not in validate(fields, {"meta": ""})  # empty passes, as in Dify
    assert validate(fields, {"meta": [1, 2]})["meta"].startswith("meta must be a JSON object")
    assert validate(fields, {"meta": '{"a": 1}'})["meta"].startswith("meta must be a JSON object")


def test_checkbox_accepts_anything_but_objects(fields):
    for value in (True, "yes", 0, "maybe"):
        assert "dry_run" not in validate(fields, {"dry_run": value})
    errors = validate(fields, {"dry_run": {"a": 1}})
    assert errors["dry_run"] == "dry_run cannot be an object"
    errors = validate(fields, {"dry_run": [{"a": 1}]})
    assert errors["dry_run"] == "dry_run cannot be an object"


def test_unknown_and_read_only_variables_ignored():
    fields = [Field("w", "Weather", "external_data_tool", required=True, read_only=True)]
    assert validate(fields, {"other": {"x": 1}}) == {}


# --- file type checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.JPG", "image"), ("x/y.svg", "image"), ("s.mp3", "audio"), ("m.MOV", "video"),
     ("r.pdf", "document"), ("n.md", "document"), ("t.properties", "document"),
     ("e.epub", "document"), ("a.exe", "custom"), ("README", "custom"),
     (Path("/tmp/p.webp"), "image"), ("https://example.com/a.pdf?x=1.png", "document"),
     ("https://example.com", "custom")],
)  # fmt: skip
def test_file_type_of(name, kind):
    assert file_type_of(name) == kind


def test_wrong_file_type(fields, tmp_path):
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    png = tmp_path / "pic.png"
    png.write_bytes(b"x")
    message = validate(fields, {"doc": exe})["doc"]
    assert "tool.exe" in message and "document" in message
    assert "pic.png" in validate(fields, {"doc": png})["doc"]
    assert "doc" in validate(fields, {"doc": "https://example.com/pic.png"})


def test_missing_local_file(fields, tmp_path):
    message = validate(fields, {"doc": tmp_path / "gone.pdf"})["doc"]
    assert "no such file" in message and "gone.pdf" in message


def test_upload_method_and_custom_extensions(tmp_path):
    data = tmp_path / "data.parquet"
    data.write_bytes(b"x")
    field = Field(
        "f", "F", "file",
        allowed_file_types=("document", "custom"),
        allowed_file_extensions=(".PARQUET",),
        allowed_file_upload_methods=("remote_url",),
    )  # fmt: skip
    assert validate([field], {"f": "https://h/data.parquet"}) == {}
    assert "local files" in validate([field], {"f": data})["f"]
    message = validate([field], {"f": "https://h/data.bin"})["f"]
    assert "extension" in message and ".parquet" in message
    # no types configured: known types pass, custom files need a listed extension (Dify's rule)
    loose = Field("f", "F", "file")
    assert validate([loose], {"f": "https://h/a.pdf"}) == {}
    assert "extension" in validate([loose], {"f": "https://h/a.bin"})["f"]


# --- coerce -------------------------------------------------------------------------------


def test_coerce_types(fields, tmp_path):
    raw = {
        "name": "Ann",
        "brief": "",
        "tone": "casual",
        "n": " 12 ",
        "dry_run": "Yes",
        "doc": "~/report.pdf",
        "imgs": "a.png, https://h/b.png\nc.png,",
        "meta": '{"k": [1, 2]}',
        "extra": "kept",
    }
    values = coerce(fields, raw)
    assert values == {
        "name": "Ann",
        "brief": "",
        "tone": "casual",
        "n": 12,
        "dry_run": True,
        "doc": Path("~/report.pdf").expanduser(),
        "imgs": [
            Path("a.png"),
            {"type": "image", "transfer_method": "remote_url", "url": "https://h/b.png"},
            Path("c.png"),
        ],
        "meta": {"k": [1, 2]},
        "extra": "kept",
    }
    assert type(values["n"]) is int


@pytest.mark.parametrize(("text", "value"), [("2.5", 2.5), ("1e3", 1000.0), ("-4", -4), ("x", "x")])
def test_coerce_numbers(fields, text, value):
    assert coerce(fields, {"n": text}) == {"n": value}


def test_coerce_bad_number_is_reported_by_validate(fields):
    values = coerce(fields, {"n": "lots"})
    assert validate(fields, values)["n"] == "n must be a number"


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("1", True), ("ON", True), ("false", False), ("0", False), ("no", False),
     ("off", False)],
)  # fmt: skip
def test_coerce_checkbox(fields, text, value):
    assert coerce(fields, {"dry_run": text}) == {"dry_run": value}


def test_coerce_checkbox_rejects_other_words(fields):
    with pytest.raises(FormError) as info:
        coerce(fields, {"dry_run": "maybe"})
    assert info.value.variable == "dry_run"


def test_coerce_invalid_json(fields):
    with pytest.raises(FormError) as info:
        coerce(fields, {"meta": "{nope"})
    assert info.value.variable == "meta"
    assert isinstance(info.value, DifyError)
    assert "not valid JSON" in str(info.value)


def test_coerce_blank_values_are_left_out(fields):
    raw = {"n": " ", "dry_run": "", "doc": "", "imgs": " , ", "meta": "", "tone": ""}
    assert coerce(fields, raw) == {}
    # a blank required text box is "missing", so validate reports it as Dify's web form would
    values = coerce(fields, {"name": "  "})
    assert values == {}
    assert validate(fields, values)["name"] == "name is required"


def test_coerce_then_validate_round_trip(fields, doc):
    values = coerce(fields, {"name": "Bo", "tone": "formal", "doc": str(doc), "n": "2"})
    assert validate(fields, values) == {}


def test_as_text(fields):
    f = by_name(fields)
    assert as_text(f["dry_run"], True) == "true"
    assert as_text(f["meta"], {"a": 1}) == '{"a": 1}'
    assert as_text(f["imgs"], ["a.png", "b.png"]) == "a.png, b.png"
    assert as_text(f["n"], None) == ""
    raw = {"n": as_text(f["n"], 3), "meta": as_text(f["meta"], {"a": [1]})}
    assert coerce(fields, raw) == {"n": 3, "meta": {"a": [1]}}


# --- what Dify would drop -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_upload", "mode", "kept"),
    [({}, "workflow", True),  # captured wf_parameters: workflows keep files as sys.files anyway
     ({"enabled": False}, "advanced-chat", False),  # captured describe_chat
     ({}, "advanced-chat", False),
     ({"image": {"enabled": False, "number_limits": 3}}, "chat", False),  # easy-UI default
     ({"image": {"enabled": True, "number_limits": 3}}, "chat", True),  # legacy shape
     ({"enabled": True, "allowed_file_types": ["document"], "image": {"enabled": False}}, "completion", True),
     (None, "agent-chat", False)],
)  # fmt: skip
def test_file_upload_enabled(file_upload, mode, kept):
    assert file_upload_enabled({"file_upload": file_upload}, mode) is kept
    assert file_upload_enabled(captured_body("wf_parameters.http"), "workflow")
    assert not file_upload_enabled(captured_body("chat_parameters.http"), "advanced-chat")


def test_form_variables_include_controls_this_version_cannot_parse():
    form = [*WORKFLOW_FORM, {"date-picker": {"variable": "when", "label": "When"}}, {"bad": "x"}]
    names = form_variables({"user_input_form": form})
    assert names[:2] == ["name", "brief"] and names[-1] == "when"
    assert unknown_inputs({"user_input_form": form}, ["when", "name", "bogus"]) == ["bogus"]
    assert form_variables(captured_body("chat_parameters.http")) == ["city"]


def test_restore_gives_recorded_inputs_back_in_form_order_with_files_as_paths(fields):
    recorded = {"imgs": ["/tmp/a.png", "https://example.com/b.png"], "name": "x", "doc": "/tmp/r.pdf",
                "gone": 1, "n": None}  # fmt: skip
    values = restore(fields, recorded)
    assert list(values) == ["name", "doc", "imgs"]
    assert values["doc"] == Path("/tmp/r.pdf") and values["imgs"][0] == Path("/tmp/a.png")
    assert values["imgs"][1]["transfer_method"] == "remote_url"


def test_file_type_messages_use_an_before_a_vowel(tmp_path):
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3")
    field = Field("f", "F", "file", allowed_file_types=("document",))
    assert "song.mp3 is an audio file" in validate([field], {"f": song})["f"]
    picture = tmp_path / "p.png"
    picture.write_bytes(b"x")
    assert "p.png is an image file" in validate([field], {"f": picture})["f"]
    clip = tmp_path / "c.mp4"
    clip.write_bytes(b"x")
    assert "c.mp4 is a video file" in validate([field], {"f": clip})["f"]


def test_a_file_list_item_with_a_comma_is_quoted_and_read_back_whole(fields, tmp_path):
    odd = tmp_path / 'report, "final".pdf'
    plain = tmp_path / "notes.txt"
    text = join_file_list([str(odd), str(plain), "https://x/a.png"])
    assert split_file_list(text) == [str(odd), str(plain), "https://x/a.png"]
    # what the picker or a remembered input writes into the box is what coerce reads
    assert coerce(fields, {"imgs": text})["imgs"][:2] == [odd, plain]
    assert as_text(Field("imgs", "Images", "file-list"), [odd, plain]) == text.rsplit(", ", 1)[0]
    # the old forms still read: commas and line breaks separate unquoted items
    assert split_file_list("a.png, b.png\nc.png,") == ["a.png", "b.png", "c.png"]
