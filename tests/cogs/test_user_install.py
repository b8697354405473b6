"""A user install: `/ask` and the message menus where the bot was never invited (a server, someone else's DM).

simcord always runs the bot as a member of its guilds, so these run against `tests/standins/discord_interactions.py`:
a Discord that serves only what such an app may use (its interactions and at most five follow-ups each) and refuses
and records anything else. Interactions enter through discord.py's own gateway parser; the answers come from the real
pipeline on a migrated SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from discord.http import Route

from bot.app import Services
from bot.db import history
from bot.discord_bot import HFBot
from bot.discord_ui.external import CUT_NOTICE, MAX_FOLLOWUPS, NO_VOICE
from cogs.ask import NO_THREAD_AWAY
from cogs.context_menu import SUMMARIZE
from tests.standins.discord_interactions import InteractionOnlyDiscord, interaction, message_payload
from tests.standins.scripted import EchoBackend, ScriptedBackend

ANSWER = "Hello there, friend."
ASKER = 4242
EPHEMERAL = 64


@pytest.fixture
def message_layout() -> str:
    return "components"  # the default layout, through the interaction-only stand-in's V2 rules


@pytest.fixture
async def away(services: Services) -> AsyncIterator[tuple[HFBot, InteractionOnlyDiscord]]:
    standin = await InteractionOnlyDiscord().start()
    base, Route.BASE = Route.BASE, f"{standin.url}/api/v10"
    bot = HFBot(services)
    await bot.login("user-install-token")
    try:
        yield bot, standin
    finally:
        await bot.close()
        Route.BASE = base
        await standin.stop()


async def until(done: Callable[[], bool], bot: HFBot, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not (done() and bot.services.answers.running() == 0):
        assert time.monotonic() < deadline, "the answer did not arrive"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # a last private remark, if any


def ask(token: str, prompt: str, **options: Any) -> dict[str, Any]:
    given = [{"name": "prompt", "type": 3, "value": prompt}]
    given += [{"name": k, "type": 5, "value": v} for k, v in options.items()]
    return {"id": "1", "name": "ask", "type": 1, "options": given}


def finished(standin: InteractionOnlyDiscord, token: str) -> bool:
    shown = standin.shown(token)
    return bool(shown) and bool(shown[0].content) and not any(m.content.endswith(" ▌") for m in shown)


async def test_ask_in_a_server_without_the_bot_answers_through_the_interaction_only(
    away: tuple[HFBot, InteractionOnlyDiscord], services: Services
) -> None:
    bot, standin = away
    bot._connection.parse_interaction_create(interaction(2, "public", ASKER, ask("public", "hello from afar")))
    await until(lambda: finished(standin, "public"), bot)
    assert standin.callbacks["public"]["type"] == 5  # deferred ("thinking…") …
    assert (
        not int((standin.callbacks["public"].get("data") or {}).get("flags") or 0) & EPHEMERAL
    )  # … in public: allowed here
    [answer] = standin.shown("public")
    assert answer.content == ANSWER and not answer.followup  # in the deferred response itself
    assert standin.outside == []  # no channel read or written, no typing, nothing outside the interaction
    async with services.db.sessions() as session:  # the asker's own conversation, not the channel's
        mine = await history.recent_turns(session, ASKER, 10)
        in_channel = await history.recent_turns(session, 888, 10)
    assert [t.content for t in mine] == ["hello from afar", ANSWER] and in_channel == []


async def test_where_the_server_disallows_external_apps_the_answer_is_private(
    away: tuple[HFBot, InteractionOnlyDiscord],
) -> None:
    bot, standin = away
    payload = interaction(2, "private", ASKER, ask("private", "psst"), may_use_external_apps=False)
    bot._connection.parse_interaction_create(payload)
    await until(lambda: finished(standin, "private"), bot)
    assert int(standin.callbacks["private"]["data"]["flags"]) & EPHEMERAL
    assert standin.shown("private")[0].content == ANSWER
    assert standin.outside == []


async def test_a_long_answer_stays_within_five_follow_ups_and_says_it_was_cut(
    away: tuple[HFBot, InteractionOnlyDiscord], services: Services
) -> None:
    bot, standin = away
    paragraph = "A sentence about the sea and its tides, long enough to fill a message. " * 12
    services.registry.register(ScriptedBackend(name="long", text="\n\n".join([paragraph.strip()] * 30)))
    services.registry.default_model = "long"  # about 26,000 characters: seven V2 messages where the bot is a member
    payload = interaction(2, "long", ASKER, ask("long", "tell me everything"), may_use_external_apps=False)
    bot._connection.parse_interaction_create(payload)
    await until(lambda: finished(standin, "long") and CUT_NOTICE.strip() in standin.shown("long")[-1].content, bot)
    shown = standin.shown("long")
    assert len(shown) == MAX_FOLLOWUPS  # the response and four follow-ups: one is left for a private remark
    assert standin.refused_followups == 0 and standin.followups["long"] < MAX_FOLLOWUPS
    assert all(m.flags & EPHEMERAL for m in shown if m.followup)  # private answer, private follow-ups
    assert shown[-1].content.endswith(CUT_NOTICE)
    assert standin.outside == []


async def test_no_thread_is_opened_where_the_bot_was_not_invited(away: tuple[HFBot, InteractionOnlyDiscord]) -> None:
    bot, standin = away
    bot._connection.parse_interaction_create(interaction(2, "thread", ASKER, ask("thread", "hi", thread=True)))
    await until(lambda: finished(standin, "thread") and len(standin.shown("thread")) == 2, bot)
    answer, told = standin.shown("thread")
    assert answer.content == ANSWER
    assert told.content == NO_THREAD_AWAY and told.flags & EPHEMERAL
    assert standin.outside == []  # no thread creation was even tried


async def test_speech_is_declined_privately_where_the_bot_is_not_a_member(
    away: tuple[HFBot, InteractionOnlyDiscord],
) -> None:
    bot, standin = away
    bot._connection.parse_interaction_create(interaction(2, "speak", ASKER, ask("speak", "say it", speak=True)))
    await until(lambda: finished(standin, "speak") and len(standin.shown("speak")) == 2, bot)
    answer, told = standin.shown("speak")
    assert answer.content == ANSWER
    assert told.content.startswith(NO_VOICE) and told.flags & EPHEMERAL
    assert standin.outside == []  # no voice connection was tried


async def test_ask_in_someone_elses_group_dm(away: tuple[HFBot, InteractionOnlyDiscord], services: Services) -> None:
    bot, standin = away
    bot._connection.parse_interaction_create(interaction(2, "group", ASKER, ask("group", "hi all"), guild_id=None))
    await until(lambda: finished(standin, "group"), bot)
    assert standin.shown("group")[0].content == ANSWER and standin.outside == []
    async with services.db.sessions() as session:  # the group's other members never see this conversation
        assert [t.content for t in await history.recent_turns(session, ASKER, 10)] == ["hi all", ANSWER]


def chosen_message(message_id: int, text: str, replying_to: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message as Discord resolves it in a message menu's interaction: with what it directly replies to."""
    author = {"id": "31", "username": "carol", "discriminator": "0", "avatar": None, "global_name": None}
    payload = message_payload(message_id, text, author, type=19 if replying_to else 0)
    if replying_to is not None:
        payload["message_reference"] = {"message_id": replying_to["id"], "channel_id": "888", "guild_id": "777"}
        payload["referenced_message"] = replying_to
    return payload


async def test_summarize_in_a_server_without_the_bot_uses_only_what_the_interaction_brought(
    away: tuple[HFBot, InteractionOnlyDiscord], services: Services
) -> None:
    bot, standin = away
    services.registry.register(EchoBackend())
    services.registry.default_model = "echo"
    oldest = chosen_message(6000, "Who brings the cake?")
    parent = chosen_message(6001, "I can bake one.", replying_to={**oldest, "content": "Who brings the cake?"})
    parent["message_reference"] = {"message_id": "6000", "channel_id": "888"}
    parent.pop("referenced_message")  # Discord resolves one level: the grandparent would need a channel read
    target = chosen_message(6002, "Great, chocolate please!", replying_to=parent)
    menu = {"id": "2", "name": "Summarize", "type": 3, "target_id": "6002", "resolved": {"messages": {"6002": target}}}
    bot._connection.parse_interaction_create(interaction(2, "menu", ASKER, menu))
    await until(lambda: "menu" in standin.callbacks, bot)
    form = standin.callbacks["menu"]
    assert form["type"] == 9  # a form for the question
    [row] = form["data"]["components"]
    [field] = row["components"]
    assert field["value"] == SUMMARIZE  # filled in

    submitted = {
        "custom_id": form["data"]["custom_id"],
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "question", "value": SUMMARIZE}]}],
    }
    bot._connection.parse_interaction_create(interaction(5, "form", ASKER, submitted))
    await until(lambda: finished(standin, "form"), bot)
    asked = json.loads(standin.shown("form")[0].content)[-1]["content"]
    assert "carol: I can bake one.\ncarol: Great, chocolate please!" in asked
    assert "Who brings the cake?" not in asked  # not fetched: the bot may not read this channel
    assert asked.endswith(SUMMARIZE)
    assert standin.outside == []


async def test_only_ask_and_the_message_menus_are_user_installable(simcord_env, simcord_bot: HFBot) -> None:
    installs = {
        command.name: sorted(command.to_dict(simcord_bot.tree).get("integration_types") or [])
        for command in simcord_bot.tree.get_commands(type=None)  # type: ignore[call-overload]
    }
    assert installs.pop("ask") == [0, 1] and installs.pop("Ask about this") == [0, 1]
    assert installs.pop("Summarize") == [0, 1]
    assert {"persona", "model", "voice", "quota", "forget"} <= set(installs)
    assert all(kinds == [0] for kinds in installs.values())  # settings, voice, admin: the server's install only
