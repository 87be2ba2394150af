"""The app filter ranks its matches: Enter opens an exact id or name match before a prefix match, and
a prefix match before a substring or a description match (pilot tests of the sidebar widget)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from difytui.tui.widgets.app_list import AppItem, AppList

from .conftest import type_text, wait_until

APPS = [
    AppItem("helpdesk", "Helpdesk", "chat", "Hands tickets to the support team."),
    AppItem("support-notes", "Notes for Support", "chat", "Summaries for the team."),
    AppItem("support-bot", "Support Bot", "advanced-chat", "Answers customers."),
    AppItem("support", "Support", "chat", "The plain support assistant."),
    AppItem("chatbot-lab", "Chatbot Lab", "chat", "Experiments."),
    AppItem("bot-trainer", "Bot Trainer", "chat", "Trains bots."),
    AppItem("copy-helper", "Copy Helper", "chat", "Suggests copy."),
    AppItem("copy", "Copywriter", "completion", "Writes product copy."),
]


class Host(App[None]):
    def __init__(self, apps: list[AppItem]) -> None:
        super().__init__()
        self.apps = apps
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield AppList(self.apps, id="apps")

    def on_app_list_chosen(self, message: AppList.Chosen) -> None:
        self.chosen.append(message.app_id)


async def filter_and_enter(pilot: Any, host: Host, text: str, *moves: str) -> str:
    host.query_one("#app-filter").focus()
    await type_text(pilot, text)
    await pilot.press(*moves, "enter")
    return await wait_until(pilot, lambda: host.chosen and host.chosen[-1], what="an app chosen")


def shown(host: Host) -> list[str]:
    options = host.query_one("#app-options")
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


async def test_an_exact_name_or_id_match_opens_before_earlier_description_matches():
    host = Host(APPS)
    async with host.run_test() as pilot:
        assert await filter_and_enter(pilot, host, "support") == "support"
        assert await filter_and_enter(pilot, host, "copywriter") == "copy"  # the name, in a later group


async def test_a_prefix_match_opens_before_a_substring_match():
    host = Host(APPS)
    async with host.run_test() as pilot:
        assert await filter_and_enter(pilot, host, "bot") == "bot-trainer"  # not support-bot, chatbot-lab
        assert await filter_and_enter(pilot, host, "notes") == "support-notes"  # "Notes for Support"
        assert await filter_and_enter(pilot, host, "cop") == "copy-helper"  # prefix ties keep list order


async def test_matches_are_listed_closest_first_within_their_group():
    host = Host(APPS)
    async with host.run_test() as pilot:
        host.query_one("#app-filter").focus()
        await type_text(pilot, "support")
        assert shown(host) == ["group:chat", "support", "support-notes", "support-bot", "helpdesk"]


async def test_a_highlight_moved_by_hand_is_what_enter_opens():
    host = Host(APPS)
    async with host.run_test() as pilot:
        assert await filter_and_enter(pilot, host, "support", "down") == "support-notes"
        # The filter is cleared after opening, and the opened app stays highlighted.
        await wait_until(pilot, lambda: len(shown(host)) == len(APPS) + 2, what="the full list again")
        assert host.query_one(AppList).highlighted_app == "support-notes"
