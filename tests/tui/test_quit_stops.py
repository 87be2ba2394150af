"""Quitting with a run in flight that Dify has not named yet: the console waits for the name (with
a notice), stops the run, then leaves; a second quit key leaves at once (the notice names it).

The simulator holds the run before its first event (``hold`` fault): the tests wait on its record
(``held_tasks``, ``stopped_tasks``) and on the console's notice, never on the clock."""

from __future__ import annotations

from typing import Any

from .conftest import SIZE, console, open_app, type_text, wait_until


def leaving_notice(app: Any) -> bool:
    return any("Stopping 1 run as soon as Dify names" in str(n.message) for n in app._notifications)


async def held_run(pilot: Any, app: Any, sim: Any) -> None:
    sim.add_fault("/v1/chat-messages", "hold", after=0, seconds=3600)
    pane = await open_app(pilot, app, "support-bot")
    pane.prompt.focus()
    await type_text(pilot, "hi")
    await pilot.press("enter")
    await wait_until(pilot, lambda: sim.held_tasks, what="the run held before its first event")


async def test_quit_before_the_task_is_named_stops_it_once_it_is(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await held_run(pilot, app, sim)
        (task_id,) = sim.held_tasks
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: leaving_notice(app), what="the 'stopping' notice")
        assert not app._exit  # still waiting for the task id
        sim.release_holds(1)  # Dify's first event names the task
        await wait_until(pilot, lambda: app._exit, what="the console leaves")
    assert sim.stopped_tasks == [task_id]


async def test_a_second_quit_leaves_without_waiting_for_the_task(sim):
    app = console(sim)
    async with app.run_test(size=SIZE) as pilot:
        await held_run(pilot, app, sim)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: leaving_notice(app), what="the 'stopping' notice")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app._exit, what="the console leaves")
    assert sim.stopped_tasks == []  # nothing named the task: it could not be stopped


async def test_the_notice_names_the_quit_key_the_user_bound(sim):
    app = console(sim, keymap={"quit": "f10"})
    async with app.run_test(size=SIZE) as pilot:
        await held_run(pilot, app, sim)
        await pilot.press("f10")
        await wait_until(pilot, lambda: leaving_notice(app), what="the 'stopping' notice")
        assert any("Press f10 again" in str(n.message) for n in app._notifications)
        await pilot.press("f10")
        await wait_until(pilot, lambda: app._exit, what="the console leaves")
