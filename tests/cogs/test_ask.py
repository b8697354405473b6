"""/ask through discord.py's real machinery (simcord): defer, streamed edits, history, persona, mentions."""

from __future__ import annotations

import json

import pytest

from bot.app import Services
from bot.db import history
from bot.discord_bot import HFBot
from bot.streaming.splitting import open_fence
from tests.cogs.helpers import message_requests, server
from tests.standins.scripted import ScriptedBackend


@pytest.mark.simcord(settle_timeout=30)
async def test_ask_defers_and_the_reply_grows_to_the_full_answer(simcord_env, services: Services) -> None:
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = " ".join(f"word{i}" for i in range(40))
    backend.delay = 0.05
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    alice = guild.add_member(simcord_env.create_user("alice"))

    result = await alice.slash(channel, "ask", prompt="Count for me")

    callbacks = [r for r in simcord_env.http_requests if r.path.endswith("/callback")]
    assert callbacks[0].json == {"type": 5}  # deferred at once ("thinking…")
    assert result.response.content == backend.text
    edits = [r.json["content"] for r in simcord_env.http_requests if r.method == "PATCH" and r.json.get("content")]
    assert len(edits) >= 2 and all(backend.text.startswith(e.removesuffix(" ▌")) for e in edits)
    assert len(edits[0]) < len(edits[-1])


async def test_history_and_persona_reach_the_model(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    await s.admin.slash(s.channel, "persona set", name="coder")
    await s.member.slash(s.channel, "ask", prompt="first question")
    result = await s.admin.slash(s.channel, "ask", prompt="second question")
    seen = json.loads(result.response.content)
    assert seen[0]["role"] == "system" and seen[0]["content"].startswith("You are an expert programmer")
    assert seen[1] == {"role": "user", "content": "bob: first question"}
    assert seen[2]["role"] == "assistant"
    assert seen[-1] == {"role": "user", "content": "ada: second question"}
    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, s.channel.id, 10)
    assert [(t.role, t.persona) for t in turns] == [("user", None), ("assistant", "coder")] * 2


async def test_model_output_pings_nobody(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    backend.text = f"Hey @everyone and @here, also {s.member.mention} and <@&{s.guild.id}>!"
    result = await s.member.slash(s.channel, "ask", prompt="ping people")
    assert "@everyone" in result.response.content
    requests = message_requests(simcord_env)
    assert requests and all(r.json.get("allowed_mentions") == {"parse": []} for r in requests)
    message = result.response.message
    assert not message.mention_everyone  # simcord lists mentioned ids; allowed_mentions decides who is pinged


async def test_long_code_answer_arrives_as_valid_messages(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    backend = services.registry.backend("scripted")
    assert isinstance(backend, ScriptedBackend)
    code = "\n".join(f"    result_{i} = transform(data, step={i})" for i in range(130))
    backend.text = "Here you go:\n\n```python\ndef pipeline(data):\n" + code + "\n    return data\n```\n\nDone."
    assert len(backend.text) > 5000
    result = await s.member.slash(s.channel, "ask", prompt="write a long function")
    messages = [result.response.content] + [f.content for f in result.followups]
    assert len(messages) >= 3
    assert all(len(m) <= 2000 and open_fence(m) is None for m in messages)
    assert messages[1].startswith("```python\n")
    assert messages[-1].endswith("Done.")


async def test_empty_prompt_and_cooldown_get_ephemeral_answers(simcord_env, simcord_bot: HFBot) -> None:
    s = server(simcord_env)
    empty = await s.member.slash(s.channel, "ask", prompt="   ")
    assert empty.ephemeral and "empty" in empty.response.content
    simcord_bot.services.answers.cooldowns.seconds = 30
    await s.member.slash(s.channel, "ask", prompt="one")
    again = await s.member.slash(s.channel, "ask", prompt="two")
    # Acknowledged first (a cooldown on PostgreSQL is a database write), then refused privately: the public
    # "thinking…" is gone and only the asker reads why.
    assert again.response is None
    assert [(f.content, f.ephemeral) for f in again.followups] == [
        ("Slow down a little: you can ask again in 30 s.", True)
    ]
    other = await s.admin.slash(s.channel, "ask", prompt="someone else may ask")
    assert not other.ephemeral
