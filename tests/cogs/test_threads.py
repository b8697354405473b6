"""Threads: `/ask thread:true` opens one on the answer; a thread is its own conversation that inherits its channel's
settings, is answered without mentions when the bot opened it, carries what it was opened on, and is left alone
when archived or locked. `auto_thread` opens a thread on a mention. Forum posts are answered (simcord)."""

from __future__ import annotations

import json
from typing import Any

import discord
from sqlalchemy import event

from bot.app import Services
from bot.db import history
from bot.domain import Place
from tests.cogs.helpers import server

ANSWER = "Hello there, friend."  # the scripted backend's answer


def last_question(message: Any) -> str:
    """What the model was asked last (the echo backend answers with the messages it received, as JSON)."""
    return json.loads(message.content)[-1]["content"]


def user_post(env: Any, forum: Any, author: Any, title: str, text: str) -> Any:
    """A member's new forum post: a thread in the forum whose starter message has the thread's id (as on Discord)."""
    backend = env.backend
    thread = backend.create_thread(forum.id, title, author.id, broadcast=False)
    backend.announce_thread_create(thread)
    starter = backend.prepare_message(thread.id, author.id, text)
    starter.id = thread.id
    backend.commit_message(starter)
    return thread


async def test_ask_opens_a_thread_that_inherits_the_channel_and_talks_without_mentions(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    await s.admin.slash(s.channel, "persona set", name="coder")
    result = await s.member.slash(s.channel, "ask", prompt="plan a trip to the coast", thread=True)
    assert not result.ephemeral
    [thread] = s.channel.threads
    assert thread.name == "plan a trip to the coast"

    services.registry.default_model = "echo"
    await s.member.send(thread, "and what should I pack?")  # no mention: the bot opened this thread
    answer = thread.last_message
    assert answer.author.id == simcord_bot.user.id
    seen = json.loads(answer.content)
    assert seen[0]["content"].startswith("You are an expert programmer")  # the channel's persona, inherited
    assert len(seen) == 2  # its own memory: the channel's conversation is not in it…
    # …but it knows what it was opened on: the question and the answer, as a reply chain would carry them.
    assert f"bob: plan a trip to the coast\nyou (the assistant): {ANSWER}" in seen[-1]["content"]
    assert seen[-1]["content"].endswith("and what should I pack?")
    async with services.db.sessions() as session:
        in_channel = await history.recent_turns(session, s.channel.id, 10)
    assert [t.content for t in in_channel if t.role == "user"] == ["plan a trip to the coast"]
    asked = await s.member.slash(thread, "ask", prompt="and the weather?")  # /ask in the thread knows it too
    assert f"bob: plan a trip to the coast\nyou (the assistant): {ANSWER}" in last_question(asked.response)

    # A persona set in the thread wins over the channel's; the channel keeps its own.
    await s.admin.slash(thread, "persona set", name="storyteller")
    here = Place(s.guild.id, thread.id, parent_id=s.channel.id)
    assert (await services.places.resolved(here)).persona.name == "storyteller"  # type: ignore[union-attr]
    assert (await services.places.resolved(Place(s.guild.id, s.channel.id))).persona.name == "coder"  # type: ignore[union-attr]


async def test_a_thread_a_user_opens_on_an_answer_carries_its_question_and_answer(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    await s.member.send(s.channel, f"<@{me.id}> which knots hold best?")
    answer = s.channel.last_message
    assert answer.author.id == me.id
    # bob opens a thread on the bot's answer (simcord's members cannot, so its backend does what Discord would).
    simcord_env.backend.create_thread(s.channel.id, "knots", s.member.id, message_id=answer.id)
    await simcord_env.settle()
    [thread] = s.channel.threads
    services.registry.default_model = "echo"
    await s.member.send(thread, f"<@{me.id}> and for climbing?")
    asked = last_question(thread.last_message)
    assert f"bob: which knots hold best?\nyou (the assistant): {ANSWER}" in asked
    assert asked.endswith("and for climbing?")


async def test_a_thread_on_someone_elses_message_quotes_that_message(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    said = await s.admin.send(s.channel, "The deploy is moved to Friday.")
    simcord_env.backend.create_thread(s.channel.id, "deploy", s.member.id, message_id=said.id)
    await simcord_env.settle()
    [thread] = s.channel.threads
    services.registry.default_model = "echo"
    await s.member.send(thread, f"<@{me.id}> why Friday?")
    asked = last_question(thread.last_message)
    assert "ada: The deploy is moved to Friday." in asked


async def test_without_the_thread_permission_the_answer_stays_in_the_channel(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    closed = s.guild.create_text_channel(
        "no-threads", overwrites={simcord_bot.user: discord.PermissionOverwrite(create_public_threads=False)}
    )
    result = await s.member.slash(closed, "ask", prompt="hello", thread=True)
    assert result.response.content == ANSWER
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


async def test_auto_thread_opens_a_thread_on_a_mention_and_the_conversation_keeps_its_memory(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    me = simcord_bot.user
    switched = await s.admin.slash(s.channel, "persona threads", mode="on")
    assert "opens a thread" in switched.response.content
    question = await s.member.send(s.channel, f"<@{me.id}> what is a good first telescope?")
    [thread] = s.channel.threads
    assert thread.id == question.id and thread.name == "what is a good first telescope?"
    in_channel = [
        m
        for m in s.channel.history()
        if m.id > question.id and m.author.id == me.id and m.type != discord.MessageType.thread_created
    ]
    assert in_channel == []  # the answer is in the thread, not the channel
    assert thread.last_message.author.id == me.id and thread.last_message.content == ANSWER

    services.registry.default_model = "echo"
    await s.member.send(thread, "and for a child?")  # no mention needed in the thread
    seen = json.loads(thread.last_message.content)
    assert [m["content"] for m in seen[1:]] == ["what is a good first telescope?", ANSWER, "and for a child?"]

    # Off again: a mention is answered in place.
    await s.admin.slash(s.channel, "persona threads", mode="off")
    await s.member.send(s.channel, f"<@{me.id}> thanks")
    assert len(s.channel.threads) == 1 and s.channel.last_message.author.id == me.id


async def test_auto_thread_without_the_thread_permission_answers_in_the_channel(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    closed = s.guild.create_text_channel(
        "no-threads", overwrites={simcord_bot.user: discord.PermissionOverwrite(create_public_threads=False)}
    )
    await s.admin.slash(closed, "persona threads", mode="on")
    await s.member.send(closed, f"<@{simcord_bot.user.id}> hello?")
    assert closed.threads == []
    assert closed.last_message.author.id == simcord_bot.user.id and closed.last_message.content == ANSWER


async def test_auto_thread_for_the_whole_server_and_who_may_switch_it(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    channel_managers = s.guild.create_role("Mods", permissions=discord.Permissions(manage_channels=True))
    mod = s.guild.add_member(simcord_env.create_user("mo"), roles=[channel_managers])

    denied = await s.member.slash(s.channel, "persona threads", mode="on")
    assert denied.ephemeral and "Manage Channels" in denied.response.content
    not_admin = await mod.slash(s.channel, "persona threads", mode="on", scope="guild")
    assert not_admin.ephemeral and "Only server admins" in not_admin.response.content
    await s.member.slash(s.channel, "ask", prompt="a thread", thread=True)
    in_thread = await s.admin.slash(s.channel.threads[0], "persona threads", mode="on")
    assert in_thread.ephemeral and "use this in its channel" in in_thread.response.content
    place = Place(s.guild.id, s.channel.id)
    assert not (await services.places.resolved(place)).auto_thread  # neither refusal changed anything

    done = await s.admin.slash(s.channel, "persona threads", mode="on", scope="guild")
    assert "in this server" in done.response.content
    other = s.guild.create_text_channel("other")
    await s.member.send(other, f"<@{simcord_bot.user.id}> hi")
    assert len(other.threads) == 1  # the server's switch reaches every channel
    changes = await services.places.recent_changes(s.guild.id)
    assert any(c.action == "auto_thread.set" and c.actor_id == s.admin.id for c in changes)


async def test_a_forum_with_chat_on_answers_new_posts_and_knows_the_post(
    simcord_env, simcord_bot, services: Services
) -> None:
    s = server(simcord_env)
    forum = s.guild.create_forum_channel("help")
    denied = await s.member.slash(s.channel, "persona chat", mode="on", forum=forum)
    assert denied.ephemeral and "Manage Channels" in denied.response.content
    done = await s.admin.slash(s.channel, "persona chat", mode="on", forum=forum)
    assert "every post" in done.response.content

    services.registry.default_model = "echo"
    post = user_post(simcord_env, forum, s.member, "Printer jams", "It jams on every second page.")
    await simcord_env.settle()
    thread = next(t for t in forum.threads if t.id == post.id)
    first = thread.last_message
    assert first.author.id == simcord_bot.user.id  # a new post is answered, no mention needed
    assert last_question(first) == "Printer jams\n\nIt jams on every second page."  # title and message

    await s.member.send(thread, "it is a laser printer")
    seen = json.loads(thread.last_message.content)
    assert seen[1]["content"] == "Printer jams\n\nIt jams on every second page."  # the post, once: from memory
    assert seen[-1]["content"] == "it is a laser printer"


async def test_a_mention_in_a_forum_post_sees_the_post(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    forum = s.guild.create_forum_channel("questions")
    post = user_post(simcord_env, forum, s.admin, "Best pizza oven?", "Gas or wood, for a small garden?")
    await simcord_env.settle()
    thread = next(t for t in forum.threads if t.id == post.id)
    assert thread.last_message.author.id == s.admin.id  # chat is off here: the post alone is not answered
    services.registry.default_model = "echo"
    await s.member.send(thread, f"<@{simcord_bot.user.id}> what would you pick?")
    asked = last_question(thread.last_message)
    assert "ada: Best pizza oven?\n\nGas or wood, for a small garden?" in asked  # the starter message, quoted
    assert asked.endswith("what would you pick?")


async def test_a_thread_opened_on_no_message_is_looked_up_once(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    simcord_env.backend.create_thread(s.channel.id, "chat", s.member.id)  # "Create Thread" with no message
    await simcord_env.settle()
    [thread] = s.channel.threads
    for text in ("first", "second", "third"):
        await s.member.send(thread, f"<@{simcord_bot.user.id}> {text}")
        assert thread.last_message.author.id == simcord_bot.user.id
    lookups = [r for r in simcord_env.http_requests if r.method == "GET" and r.path.endswith(f"/messages/{thread.id}")]
    assert len(lookups) == 1  # that it has no starter message is remembered


async def test_a_mention_shows_typing_before_the_channel_settings_are_read(
    simcord_env, simcord_bot, services: Services
) -> None:
    # A mention in a text channel is a question whatever the settings say: its typing indicator (the message's
    # acknowledgement) goes out before auto_thread is read from the store; then the thread gets its own.
    s = server(simcord_env)
    me = simcord_bot.user
    await s.admin.slash(s.channel, "persona threads", mode="on")
    start = len(simcord_env.http_requests)

    def typed() -> list[str]:
        return [r.path for r in simcord_env.http_requests[start:] if r.path.endswith("/typing")]

    typed_at_first_read: list[list[str]] = []

    def statement(*_args: Any) -> None:
        if not typed_at_first_read:
            typed_at_first_read.append(typed())

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        await s.member.send(s.channel, f"<@{me.id}> what is a good first telescope?")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    [thread] = s.channel.threads
    assert typed_at_first_read == [[f"/channels/{s.channel.id}/typing"]]
    assert typed() == [f"/channels/{s.channel.id}/typing", f"/channels/{thread.id}/typing"]
