"""/ask through discord.py's real machinery (simcord): defer, streamed edits, history, persona, mentions."""

from __future__ import annotations

import pytest

from bot.app import Services
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
