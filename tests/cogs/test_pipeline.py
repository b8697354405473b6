"""The one answer pipeline through the real bot: server cap on every path, private refusals, length limit and
Continue, crash recovery, quiet logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence

import pytest

from bot.answers.service import TRUNCATED_NOTICE
from bot.app import Services
from bot.db import history
from bot.discord_bot import HFBot
from bot.discord_ui.recovery import INTERRUPTED_NOTICE
from bot.domain import AnswerStatus, ChatMessage, GenerationParams, StreamEnd
from bot.errors import ModelUnavailableError
from bot.services.conversation import MESSAGE_ID_SEPARATOR
from tests.cogs.helpers import server
from tests.standins.scripted import ScriptedBackend

WORDS = [f"w{i}" for i in range(12)]


class LimitedBackend(ScriptedBackend):
    """Honours max_tokens (a word a token) and says when it cut; continues a final assistant message."""

    def __init__(self) -> None:
        super().__init__(name="limited", text=" ".join(WORDS))

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncGenerator[str | StreamEnd, None]:
        self.calls.append((list(messages), params))
        done = len(messages[-1]["content"].split()) if messages[-1]["role"] == "assistant" else 0
        rest = WORDS[done:]
        for word in rest[: params.max_tokens]:
            yield word if done == 0 and word == WORDS[0] else " " + word
        yield StreamEnd("length" if len(rest) > params.max_tokens else "stop")


class BrokenBackend(ScriptedBackend):
    async def context_window(self) -> int:
        raise ModelUnavailableError("The model server is down. Try again later.")


async def test_a_refusal_after_the_defer_is_private_and_leaves_nothing_public(
    simcord_env, simcord_bot: HFBot, services: Services
) -> None:
    s = server(simcord_env)
    services.registry.register(BrokenBackend(name="broken"))
    services.registry.default_model = "broken"
    result = await s.member.slash(s.channel, "ask", prompt="are you there?")
    assert result.response is None  # the public "thinking…" is gone
    assert [(f.content, f.ephemeral) for f in result.followups] == [
        ("The model server is down. Try again later.", True)
    ]
    assert [m for m in s.channel.history() if m.author.id == simcord_bot.user.id] == []


async def test_an_ordinary_mention_logs_no_error(simcord_env, simcord_bot: HFBot, caplog) -> None:
    s = server(simcord_env)
    with caplog.at_level(logging.INFO):
        await s.member.send(s.channel, f"<@{simcord_bot.user.id}> hello")
    assert s.channel.last_message.content == "Hello there, friend."
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("persona_max", [None, 3])
async def test_length_limit_notice_and_continue_in_place(simcord_env, services: Services, persona_max) -> None:
    s = server(simcord_env)
    backend = LimitedBackend()
    services.registry.register(backend)
    services.registry.default_model = "limited"
    services.conversations.max_new_tokens = 5
    if persona_max is not None:
        await services.personas.edit("assistant", {"max_tokens": persona_max}, s.admin.id, s.guild.id)
    cap = min(5, persona_max or 512)
    result = await s.member.slash(s.channel, "ask", prompt="count")
    assert backend.calls[-1][1].max_tokens == cap  # MAX_NEW_TOKENS caps; a persona can only lower it
    assert result.response.content == " ".join(WORDS[:cap]) + "\n\n" + TRUNCATED_NOTICE
    assert "Continue" in str(result.response.components)

    await s.member.click(result.response.message, label="Continue")
    await simcord_env.settle()
    assert backend.calls[-1][0][-1] == {"role": "assistant", "content": " ".join(WORDS[:cap])}
    expected = " ".join(WORDS[: 2 * cap])
    done = len(WORDS) <= 2 * cap
    assert result.response.content == (expected if done else expected + "\n\n" + TRUNCATED_NOTICE)
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.content, t.status) for t in turns] == [
        ("user", "count", "complete"),
        ("assistant", expected, "complete" if done else "truncated"),
    ]


async def test_an_answer_left_streaming_by_a_crash_is_marked_interrupted(
    simcord_env, simcord_bot: HFBot, services: Services
) -> None:
    s = server(simcord_env)
    channel = simcord_bot.get_channel(s.channel.id)
    shown = await channel.send("The story begins with a dragon ▌")  # what the dead process left on Discord
    async with services.db.sessions.begin() as session:
        await history.add_turn(session, channel_id=s.channel.id, guild_id=s.guild.id, role="user", content="a story")
        left = await history.add_turn(
            session, channel_id=s.channel.id, guild_id=s.guild.id, role="assistant", content="", status="streaming"
        )
        await history.update_turn(session, left.id, message_ids=f"{s.channel.id}:{shown.id}")

    await simcord_bot.recover_after_crash()  # what the restarted bot does once connected (on_ready)
    await simcord_env.settle()
    assert s.channel.last_message.content == f"The story begins with a dragon\n\n{INTERRUPTED_NOTICE}"
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.content, t.status) for t in turns] == [
        ("user", "a story", "complete"),
        ("assistant", "The story begins with a dragon", AnswerStatus.INTERRUPTED),
    ]


async def test_a_crashed_answer_of_several_messages_says_interrupted_under_its_last(
    simcord_env, simcord_bot: HFBot, services: Services
) -> None:
    s = server(simcord_env)
    channel = simcord_bot.get_channel(s.channel.id)
    first = await channel.send("Chapter one, all of it.")
    last = await channel.send("Chapter two begins ▌")
    async with services.db.sessions.begin() as session:
        await history.add_turn(session, channel_id=s.channel.id, guild_id=s.guild.id, role="user", content="a saga")
        left = await history.add_turn(
            session, channel_id=s.channel.id, guild_id=s.guild.id, role="assistant", content="", status="streaming"
        )
        ids = MESSAGE_ID_SEPARATOR.join(f"{s.channel.id}:{m.id}" for m in (first, last))
        await history.update_turn(session, left.id, message_ids=ids)

    await simcord_bot.recover_after_crash()
    await simcord_env.settle()
    assert (await channel.fetch_message(first.id)).content == "Chapter one, all of it."
    assert (await channel.fetch_message(last.id)).content == f"Chapter two begins\n\n{INTERRUPTED_NOTICE}"
