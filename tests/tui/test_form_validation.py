"""Issue 10 point 10: validation speaks the form's language.

Messages name the field by its label, limits hold as the user types, errors go away as soon as
the value is fixed, and hints promise nothing the form does not keep.
"""

from __future__ import annotations

import re

from textual import events
from textual.widgets import Input, TextArea

from difytui.forms import parse_form
from difytui.sim.apps import DEMO_APPS

from .conftest import console, open_app, requests_to, type_text, wait_until

SIZE = (120, 36)


def error_of(row) -> str:
    error = row.query_one(".field-error")
    return str(error.render()) if error.display else ""


async def test_messages_use_the_fields_labels(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        name, brief, _tone = pane.form.rows
        name.control.value = "x" * 41  # e.g. remembered from before the limit was set
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert error_of(name) == "✗ Product name must be at most 40 characters"
        assert error_of(brief) == "✗ What is it? is required"
        assert not requests_to(sim, "/completion-messages")


async def test_max_length_holds_as_the_user_types(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        name = pane.form.rows[0]
        assert isinstance(name.control, Input)
        name.control.focus()
        await type_text(pilot, "a" * 45)
        assert name.control.value == "a" * 40
        await wait_until(pilot, lambda: error_of(name), what="the limit's message")
        assert error_of(name) == "✗ Product name can hold at most 40 characters"
        await pilot.press("backspace")  # a valid edit clears it
        await wait_until(pilot, lambda: not error_of(name), what="the error to clear")


async def test_a_paste_past_a_paragraphs_limit_is_refused(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "copywriter")
        brief = pane.form.rows[1]
        area = brief.control
        assert isinstance(area, TextArea)
        area.focus()
        await type_text(pilot, "short")
        app.post_message(events.Paste("p" * 1000))  # as a terminal's paste arrives
        await wait_until(pilot, lambda: error_of(brief), what="the limit's message")
        assert area.text == "short"  # what was typed is kept
        assert error_of(brief) == "✗ What is it? can hold at most 1000 characters"
        app.post_message(events.Paste("p" * 995))
        await wait_until(pilot, lambda: len(area.text) == 1000, what="the paste that fits")
        await wait_until(pilot, lambda: error_of(brief) == "", what="the error to clear")


async def test_an_error_clears_as_soon_as_the_value_is_fixed(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_app(pilot, app, "report-builder")
        rows = {r.field.variable: r for r in pane.form.rows}
        rows["sections"].control.value = ""
        rows["metadata"].control.text = "[1]"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert error_of(rows["topic"]) == "✗ Topic is required"
        assert error_of(rows["metadata"]).startswith("✗ Metadata must be a JSON object")
        rows["topic"].control.focus()
        await type_text(pilot, "T")
        assert error_of(rows["topic"]) == ""  # no second ctrl+r needed
        metadata = rows["metadata"]
        metadata.control.text = '{"owner": "me"'
        await wait_until(pilot, lambda: "not valid JSON" in error_of(metadata), what="still wrong")
        assert error_of(metadata).startswith("✗ Metadata is not valid JSON")
        metadata.control.text = '{"owner": "me"}'
        await wait_until(pilot, lambda: error_of(metadata) == "", what="the error to clear")


def test_demo_number_hints_promise_no_range():
    # Dify's number inputs have no range, so a hint like "Between 1 and 6" is a promise nothing
    # keeps: the form would send 9 without a word.
    for app_id, spec in DEMO_APPS.items():
        for field in parse_form(spec["parameters"]):
            if field.control == "number":
                assert not re.search(r"between \d+ and \d+", field.hint, re.I), (app_id, field.hint)
