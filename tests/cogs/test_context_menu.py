"""Message menus: "Ask about this" and "Summarize" open a form, and the answer sees the message (simcord)."""

from __future__ import annotations

import json
from typing import Any

import discord

from bot.app import Services
from cogs.context_menu import SUMMARIZE
from tests.cogs.helpers import server


def form_default(shown: Any) -> str | None:
    """The text the form's question field starts with."""
    [row] = shown.modal["components"]
    [field] = row["components"] if "components" in row else [row["component"]]
    return field.get("value")


async def test_ask_about_this_opens_a_form_and_the_question_reaches_the_model_with_the_message(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    said = await s.admin.send(s.channel, "We ship the release on the 14th, after the freeze.")
    services.registry.default_model = "echo"
    shown = await s.member.context_menu(s.channel, "Ask about this", said)
    assert shown.modal is not None and form_default(shown) is None  # an empty question to fill in
    result = await s.member.submit_modal(shown, {"question": "When is the freeze?"})
    seen = json.loads(result.response.content)
    asked = seen[-1]["content"]
    assert "ada: We ship the release on the 14th, after the freeze." in asked
    assert asked.endswith("When is the freeze?")
    assert not result.ephemeral  # in a server that invited the bot, answered for everyone like /ask


async def test_summarize_is_filled_in_and_sees_the_reply_chain(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    first = await s.admin.send(s.channel, "Shall we move the meetup to Thursday?")
    second = await s.member.send(s.channel, "Thursday works, but only after six.", reply_to=first)
    third = await s.admin.send(s.channel, "Then Thursday at seven, at the library.", reply_to=second)
    services.registry.default_model = "echo"
    shown = await s.member.context_menu(s.channel, "Summarize", third)
    assert form_default(shown) == SUMMARIZE
    result = await s.member.submit_modal(shown, {"question": SUMMARIZE})
    asked = json.loads(result.response.content)[-1]["content"]
    chain = [
        "ada: Shall we move the meetup to Thursday?",
        "bob: Thursday works, but only after six.",
        "ada: Then Thursday at seven, at the library.",
    ]
    assert "\n".join(chain) in asked  # the whole chain, oldest first, then the chosen message
    assert asked.endswith(SUMMARIZE)


async def test_the_menus_are_offered_for_user_installs_too(simcord_env, simcord_bot) -> None:
    menus = {c.name: c for c in simcord_bot.tree.get_commands(type=discord.AppCommandType.message)}
    assert set(menus) == {"Ask about this", "Summarize"}
    for menu in menus.values():
        payload = menu.to_dict(simcord_bot.tree)
        assert sorted(payload["integration_types"]) == [0, 1]  # guild install and user install
        assert sorted(payload["contexts"]) == [0, 1, 2]  # servers, the DM with the bot, other DMs and groups
