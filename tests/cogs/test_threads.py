"""Threads: `/ask thread:true` opens one on the answer; a thread is its own conversation that inherits its channel's
settings, is answered without mentions when the bot opened it, and is left alone when archived or locked."""

from __future__ import annotations

import json

import discord

from bot.app import Services
from bot.db import history
from bot.domain import Place
from tests.cogs.helpers import server


async def test_ask_opens_a_thread_that_inherits_the_channel_and_talks_without_mentions(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    await s.admin.slash(s.channel, "persona set", name="coder")
    services.registry.default_model = "echo"
    result = await s.member.slash(s.channel, "ask", prompt="plan a trip to the coast", thread=True)
    assert not result.ephemeral
    [thread] = s.channel.threads
    assert thread.name == "plan a trip to the coast"

    await s.member.send(thread, "and what should I pack?")  # no mention: the bot opened this thread
    answer = thread.last_message
    assert answer.author.id == simcord_bot.user.id
    seen = json.loads(answer.content)
    assert seen[0]["content"].startswith("You are an expert programmer")  # the channel's persona, inherited
    assert seen[-1] == {"role": "user", "content": "and what should I pack?"}
    assert len(seen) == 2  # its own memory: the channel's conversation is not in it
    async with services.db.sessions() as session:
        in_channel = await history.recent_turns(session, s.channel.id, 10)
    assert [t.content for t in in_channel if t.role == "user"] == ["plan a trip to the coast"]

    # A persona set in the thread wins over the channel's; the channel keeps its own.
    await s.admin.slash(thread, "persona set", name="storyteller")
    here = Place(s.guild.id, thread.id, parent_id=s.channel.id)
    assert (await services.places.resolved(here)).persona.name == "storyteller"  # type: ignore[union-attr]
    assert (await services.places.resolved(Place(s.guild.id, s.channel.id))).persona.name == "coder"  # type: ignore[union-attr]


async def test_without_the_thread_permission_the_answer_stays_in_the_channel(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    closed = s.guild.create_text_channel(
        "no-threads", overwrites={simcord_bot.user: discord.PermissionOverwrite(create_public_threads=False)}
    )
    result = await s.member.slash(closed, "ask", prompt="hello", thread=True)
    assert result.response.content == "Hello there, friend."
    assert closed.threads == []
    told = [m for m in closed.history(viewer=s.member) if "Create Public Threads" in m.content]
    assert told and told[0].flags.ephemeral


async def test_archived_and_locked_threads_are_left_alone(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    await s.member.slash(s.channel, "ask", prompt="open one", thread=True)
    [thread] = s.channel.threads
    simcord_env.backend.edit_channel(thread.id, {}, thread_metadata={"locked": True})  # a moderator locks it
    await simcord_env.settle()
    await s.member.send(thread, f"<@{simcord_bot.user.id}> are you there?")
    assert thread.last_message.author.id == s.member.id  # no answer in a locked thread
