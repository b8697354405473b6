"""Persona conversations in channels: mentions, DMs, and channels where chat is on."""

from __future__ import annotations

from bot.app import Services
from tests.cogs.helpers import server


async def test_mention_gets_a_streamed_reply(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    bot_member = simcord_bot.user
    await s.member.send(s.channel, f"<@{bot_member.id}> hello there")
    reply = s.channel.last_message
    assert reply.author.id == bot_member.id and reply.content == "Hello there, friend."
    assert reply.reference is not None  # a reply to the user's message


async def test_ordinary_messages_need_chat_on(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.member.send(s.channel, "just talking among humans")
    assert s.channel.last_message.content == "just talking among humans"
    denied = await s.member.slash(s.channel, "persona chat", mode="on")
    assert denied.ephemeral
    await s.admin.slash(s.channel, "persona chat", mode="on")
    await s.member.send(s.channel, "now the bot joins in")
    assert s.channel.last_message.content == "Hello there, friend."
    await s.admin.slash(s.channel, "persona chat", mode="off")
    await s.member.send(s.channel, "quiet again")
    assert s.channel.last_message.content == "quiet again"


async def test_forget_clears_the_channel(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.member.slash(s.channel, "ask", prompt="remember this")
    refused = await s.member.slash(s.channel, "forget")
    assert refused.ephemeral
    done = await s.admin.slash(s.channel, "forget")
    assert "2 messages" in done.response.content


async def test_direct_messages_are_answered(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    sent = await s.member.send_dm("hi in private")
    replies = [
        r for r in simcord_env.http_requests if r.method == "POST" and r.path == f"/channels/{sent.channel.id}/messages"
    ]
    assert replies and replies[-1].json["content"].startswith("Hello")


async def test_voice_join_needs_the_caller_in_voice(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    result = await s.member.slash(s.channel, "voice join")
    assert result.ephemeral and "Join a voice channel first" in result.response.content


async def test_ask_speak_without_voice_still_answers_in_text(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    result = await s.member.slash(s.channel, "ask", prompt="say it aloud", speak=True)
    assert result.response.content == "Hello there, friend."
    assert [(f.content, f.ephemeral) for f in result.followups] == [
        ("Join a voice channel first, then ask me to speak. (Answered in text only.)", True)
    ]
