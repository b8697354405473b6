"""/voice listen on | off | me | forbid through simcord (which has voice states but no voice audio: the bot
joining and hearing are tested in tests/voice)."""

from __future__ import annotations

from bot.app import Services
from bot.db import audit
from bot.domain import Place

from .helpers import server


async def test_listen_on_needs_manage_channels(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    room = s.guild.create_voice_channel("Lounge")
    denied = await s.member.slash(room, "voice listen on")
    assert denied.ephemeral
    assert denied.response.content == f"You need the Manage Channels permission in <#{room.id}> to do that."
    resolved = await services.places.resolved(Place(s.guild.id, room.id))
    assert resolved.listen_mode == "off"


async def test_listen_on_needs_a_voice_channel(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    refused = await s.admin.slash(s.channel, "voice listen on")
    assert refused.ephemeral
    assert refused.response.content == "Use this in a voice channel's chat, or while you are in a voice channel."


async def test_listen_mode_is_stored_per_channel_and_audited(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    room = s.guild.create_voice_channel("Lounge")
    done = await s.admin.slash(room, "voice listen on", mode="always")
    assert done.response.content == (
        f"Listening is on for <#{room.id}> (always): I'll listen once I'm there (`/voice join`)."
    )
    assert (await services.places.resolved(Place(s.guild.id, room.id))).listen_mode == "always"
    off = await s.admin.slash(room, "voice listen off")
    assert off.response.content == f"I've stopped listening in <#{room.id}>."
    assert (await services.places.resolved(Place(s.guild.id, room.id))).listen_mode == "off"
    async with services.db.sessions() as session:
        entries = await audit.recent(session)
    assert [(e.actor_id, e.action, e.detail) for e in reversed(entries)] == [
        (s.admin.id, "listen.set", "always"),
        (s.admin.id, "listen.set", "off"),
    ]


async def test_admins_forbid_listening(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    room = s.guild.create_voice_channel("Lounge")
    denied = await s.member.slash(s.channel, "voice listen forbid", state="on")
    assert denied.ephemeral and denied.response.content == "Only server admins (Manage Server) can do that."
    done = await s.admin.slash(s.channel, "voice listen forbid", state="on")
    assert done.response.content == "Listening is forbidden in this server."
    refused = await s.admin.slash(room, "voice listen on")
    assert refused.ephemeral and refused.response.content == "This server's admins have turned listening off."
    assert (await services.places.resolved(Place(s.guild.id, room.id))).listen_mode == "off"
    async with services.db.sessions() as session:
        entries = await audit.recent(session)
    assert [(e.actor_id, e.action, e.detail) for e in entries] == [(s.admin.id, "listen.forbid", "True")]
    allowed = await s.admin.slash(s.channel, "voice listen forbid", state="off")
    assert allowed.response.content == "Listening is allowed in this server again."
    assert (await s.admin.slash(room, "voice listen on")).response.content.startswith("Listening is on for")


async def test_members_opt_themselves_out(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    out = await s.member.slash(s.channel, "voice listen me", state="off")
    assert out.ephemeral and out.response.content == "I won't listen to you in this server."
    assert await services.places.listen_opt_outs(s.guild.id) == {s.member.id}
    back = await s.member.slash(s.channel, "voice listen me", state="on")
    assert back.ephemeral and back.response.content == "I may listen to you again where listening is on."
    assert await services.places.listen_opt_outs(s.guild.id) == set()
