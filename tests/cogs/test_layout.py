"""Answers in Components V2 (the default `MESSAGE_LAYOUT`): 4,000 characters of text displays per message, the
notice as a line under the text, the controls in an action row on the last message only. simcord holds the bot to
Discord's V2 rules (no content beside the flag, the flag never removed, 4,000 characters of text in all)."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.app import Services
from bot.db import history
from bot.discord_bot import HFBot
from bot.discord_ui.recovery import INTERRUPTED_NOTICE
from bot.services.conversation import MESSAGE_ID_SEPARATOR
from tests.cogs.helpers import server
from tests.standins.scripted import ScriptedBackend

V2 = 1 << 15


@pytest.fixture
def message_layout() -> str:
    return "components"


def texts(message: Any) -> list[str]:
    return [c["content"] for c in message.components if c["type"] == 10]


def labels(message: Any) -> list[str]:
    rows = [c for c in message.components if c["type"] == 1]
    return [b.get("label", "") for row in rows for b in row["components"]]


def answer_writes(env: Any) -> list[dict[str, Any]]:
    """Every create or edit of an answer message (channel messages and interaction webhooks)."""
    return [
        r.json
        for r in env.http_requests
        if r.method in ("POST", "PATCH") and isinstance(r.json, dict) and "components" in r.json
    ]


def prose(chars: int) -> str:
    sentences, i = [], 0
    while sum(len(s) + 1 for s in sentences) < chars:
        sentences.append(f"Sentence {i} adds a little more to the answer." + ("\n\n" if i % 9 == 8 else ""))
        i += 1
    return " ".join(sentences)[:chars].rstrip()


async def test_an_answer_reads_back_as_the_model_wrote_it(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = "Hello there, *friend*. @everyone"
    result = await s.member.slash(s.channel, "ask", prompt="hi")
    answer = result.response
    assert answer.flags.value & V2 and answer.content == ""
    assert texts(answer) == [backend.text]
    assert labels(answer) == ["Regenerate"]
    writes = answer_writes(simcord_env)
    assert writes and all(w["flags"] & V2 and not w.get("content") for w in writes)  # never dropped, never content
    assert all(w.get("allowed_mentions") == {"parse": []} for w in writes)


async def test_a_long_answer_takes_two_messages_with_its_controls_on_the_last(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = prose(7800)
    result = await s.member.slash(s.channel, "ask", prompt="tell me at length")
    messages = [result.response, *result.followups]
    assert len(messages) == 2
    bodies = [texts(m) for m in messages]
    assert all(len(b) == 1 and len(b[0]) <= 4000 for b in bodies)
    assert " ".join(b[0] for b in bodies).split() == backend.text.split()
    assert [labels(m) for m in messages] == [[], ["Regenerate"]]
    # Stop lived on the message being written: the first message lost it in the edit that finished it.
    # (Streaming with a pause is in tests/streaming/test_pacing.py; here the model answers at once.)
    writes = [(r.method, r.path, r.json) for r in simcord_env.http_requests if isinstance(r.json, dict)]
    to_first = [w for m, path, w in writes if m == "PATCH" and path.endswith("/@original") and "components" in w]
    moved_on = next(i for i, (m, path, _w) in enumerate(writes) if m == "POST" and "/webhooks/" in path)
    later = [w for i, (m, path, w) in enumerate(writes) if i > moved_on and path.endswith("/@original")]
    assert all("Stop" not in str(w.get("components")) for w in later)
    assert [c["content"] for c in to_first[-1]["components"] if c["type"] == 10] == bodies[0]


async def test_regenerate_rewrites_the_answer_in_its_layout(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = prose(5000)
    result = await s.member.slash(s.channel, "ask", prompt="tell me at length")
    [last] = result.followups
    backend.text = "Shorter, better."
    await s.member.click(last.message, label="Regenerate")
    await simcord_env.settle()
    assert texts(result.response) == ["Shorter, better."] and labels(result.response) == ["Regenerate"]
    assert all(w["flags"] & V2 for w in answer_writes(simcord_env))


async def test_a_mention_is_answered_in_components(simcord_env, simcord_bot: HFBot) -> None:
    s = server(simcord_env)
    await s.member.send(s.channel, f"<@{simcord_bot.user.id}> hello")
    await simcord_env.settle()
    reply = s.channel.last_message
    assert reply.flags.components_v2 and reply.content == ""
    assert [c.content for c in reply.components if isinstance(c, discord.components.TextDisplay)] == [
        "Hello there, friend."
    ]


async def test_recovery_puts_its_notice_on_the_last_message_of_a_crashed_answer(
    simcord_env, simcord_bot: HFBot, services: Services
) -> None:
    s = server(simcord_env)
    channel = simcord_bot.get_channel(s.channel.id)
    left: list[discord.Message] = []
    for text in ("The story begins with a dragon.", "It flew over the hills ▌"):  # what a dead process left
        view = discord.ui.LayoutView()
        view.add_item(discord.ui.TextDisplay(text))
        left.append(await channel.send(view=view))
    async with services.db.sessions.begin() as session:
        await history.add_turn(session, channel_id=s.channel.id, guild_id=s.guild.id, role="user", content="a story")
        turn = await history.add_turn(
            session, channel_id=s.channel.id, guild_id=s.guild.id, role="assistant", content="", status="streaming"
        )
        ids = MESSAGE_ID_SEPARATOR.join(f"{s.channel.id}:{m.id}" for m in left)
        await history.update_turn(session, turn.id, message_ids=ids)

    await simcord_bot.recover_after_crash()
    await simcord_env.settle()
    first, last = [await channel.fetch_message(m.id) for m in left]
    shown = [[c.content for c in m.components if isinstance(c, discord.components.TextDisplay)] for m in (first, last)]
    assert shown == [["The story begins with a dragon."], ["It flew over the hills", INTERRUPTED_NOTICE]]
    assert first.flags.components_v2 and last.flags.components_v2
