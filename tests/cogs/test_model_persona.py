"""/model and /persona: who may change what, and that the next answer uses it."""

from __future__ import annotations

import json

import discord

from bot.app import Services
from bot.db import audit
from bot.domain import Place
from tests.cogs.helpers import server


async def test_model_show_list_and_autocomplete(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    shown = await s.member.slash(s.channel, "model show")
    assert shown.ephemeral and "scripted" in shown.response.content and "default" in shown.response.content
    listed = await s.member.slash(s.channel, "model list")
    assert all(f"`{name}`" in listed.response.content for name in ("smollm2", "scripted", "echo"))
    choices = await s.admin.autocomplete(s.channel, "model set", "name", "ech")
    assert [c["value"] for c in choices] == ["echo"]


async def test_non_admin_cannot_switch_the_model(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    refused = await s.member.slash(s.channel, "model set", name="echo")
    assert refused.ephemeral and "Only server admins" in refused.response.content
    assert await services.places.model_in_force(Place(s.guild.id, s.channel.id)) == ("scripted", "default")
    async with services.db.sessions() as session:
        assert await audit.recent(session) == []


async def test_admin_switches_the_model_and_it_is_audited(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    done = await s.admin.slash(s.channel, "model set", name="echo")
    assert done.ephemeral and "Now using **echo" in done.response.content
    answer = await s.member.slash(s.channel, "ask", prompt="who answers?")
    assert json.loads(answer.response.content)[-1] == {"role": "user", "content": "who answers?"}
    unknown = await s.admin.slash(s.channel, "model set", name="gpt-17")
    assert unknown.ephemeral and "no model called `gpt-17`" in unknown.response.content
    assert await services.places.model_in_force(Place(s.guild.id, s.channel.id)) == ("echo", "channel")
    async with services.db.sessions() as session:
        entries = await audit.recent(session)
    assert [(e.actor_id, e.action, e.detail) for e in entries] == [(s.admin.id, "model.set", "echo")]


async def test_persona_lifecycle_through_commands(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    services.registry.default_model = "echo"
    refused = await s.member.slash(s.channel, "persona create", name="pirate", system_prompt="Talk like a pirate.")
    assert refused.ephemeral and "Only server admins" in refused.response.content

    created = await s.admin.slash(
        s.channel, "persona create", name="pirate", system_prompt="Talk like a pirate.", temperature=0.9
    )
    assert "Created persona **pirate**" in created.response.content
    duplicate = await s.admin.slash(s.channel, "persona create", name="PIRATE", system_prompt="again")
    assert duplicate.ephemeral and "already exists" in duplicate.response.content

    denied = await s.member.slash(s.channel, "persona set", name="pirate")
    assert denied.ephemeral and "Manage Channels" in denied.response.content
    await s.admin.slash(s.channel, "persona set", name="pirate")
    answer = await s.member.slash(s.channel, "ask", prompt="hello")
    assert json.loads(answer.response.content)[0] == {"role": "system", "content": "Talk like a pirate."}

    await s.admin.slash(s.channel, "persona edit", name="pirate", system_prompt="Talk like a polite pirate.")
    shown = await s.member.slash(s.channel, "persona show")
    assert "polite pirate" in shown.response.content
    answer = await s.member.slash(s.channel, "ask", prompt="hello again")
    assert json.loads(answer.response.content)[0]["content"] == "Talk like a polite pirate."

    await s.admin.slash(s.channel, "persona delete", name="pirate")
    answer = await s.member.slash(s.channel, "ask", prompt="and now?")
    assert json.loads(answer.response.content)[0]["content"].startswith("You are a helpful assistant")
    missing = await s.member.slash(s.channel, "persona show", name="pirate")
    assert missing.ephemeral and "no persona called" in missing.response.content


async def test_persona_reset_returns_to_the_default(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    await s.admin.slash(s.channel, "persona set", name="tutor")
    await s.admin.slash(s.channel, "persona reset")
    resolved = await services.places.resolved(Place(s.guild.id, s.channel.id))
    assert resolved.persona is None


async def test_persona_voice_settings(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    refused = await s.member.slash(s.channel, "persona voice", name="tutor", language="fr-FR")
    assert refused.ephemeral and "Only server admins" in refused.response.content
    done = await s.admin.slash(s.channel, "persona voice", name="tutor", language="fr-FR", speaking_rate=1.25)
    assert "speaks fr-FR" in done.response.content
    bad = await s.admin.slash(s.channel, "persona voice", name="tutor", language="French please")
    assert bad.ephemeral and "looks like `en-US`" in bad.response.content
    voice = (await services.personas.get("tutor")).voice
    assert voice is not None and (voice.language, voice.speaking_rate, voice.pitch) == ("fr-FR", 1.25, 0.0)


async def test_admin_allowlist_limits_model_switching_to_listed_ids(simcord_env, simcord_bot, services) -> None:
    s = server(simcord_env)
    admins = s.guild.create_role("Other admins", permissions=discord.Permissions(manage_guild=True))
    unlisted = s.guild.add_member(simcord_env.create_user("carl"), roles=[admins])
    simcord_bot.settings.admin_user_ids.append(s.admin.id)  # ADMIN_USER_IDS=<ada's id>
    refused = await unlisted.slash(s.channel, "model set", name="echo")
    assert refused.ephemeral and refused.response.content == "Only server admins (Manage Server) can do that."
    assert await services.places.model_in_force(Place(s.guild.id, s.channel.id)) == ("scripted", "default")
    done = await s.admin.slash(s.channel, "model set", name="echo")
    assert "Now using **echo" in done.response.content


async def test_manage_channels_alone_sets_the_channel_persona_but_not_the_servers(simcord_env, services) -> None:
    s = server(simcord_env)
    moderators = s.guild.create_role("Mods", permissions=discord.Permissions(manage_channels=True))
    mod = s.guild.add_member(simcord_env.create_user("mo"), roles=[moderators])
    here = await mod.slash(s.channel, "persona set", name="tutor")
    assert here.response.content == "From the next message on, I'm **tutor** here."
    server_wide = await mod.slash(s.channel, "persona set", name="coder", scope="guild")
    assert server_wide.ephemeral
    assert server_wide.response.content == "Only server admins (Manage Server) can do that."
    model = await mod.slash(s.channel, "model set", name="echo")
    assert model.response.content == "Only server admins (Manage Server) can do that."
    resolved = await services.places.resolved(Place(s.guild.id, s.channel.id))
    assert (resolved.persona.name, resolved.persona_from) == ("tutor", "channel")


async def test_changes_lists_the_audit_trail_for_admins_only(simcord_env, services) -> None:
    s = server(simcord_env)
    await s.admin.slash(s.channel, "model set", name="echo")
    denied = await s.member.slash(s.channel, "changes")
    assert denied.ephemeral and denied.response.content == "Only server admins (Manage Server) can do that."
    shown = await s.admin.slash(s.channel, "changes")
    assert shown.ephemeral and f"<@{s.admin.id}> `model.set` channel:{s.channel.id} echo" in shown.response.content


async def test_the_admin_allowlist_adds_to_manage_server_and_never_replaces_it(
    simcord_env, simcord_bot, services
) -> None:
    s = server(simcord_env)
    simcord_bot.settings.admin_user_ids.append(s.member.id)  # listed, but without Manage Server
    refused = await s.member.slash(s.channel, "model set", name="echo")
    assert refused.ephemeral and refused.response.content == "Only server admins (Manage Server) can do that."
    assert await services.places.model_in_force(Place(s.guild.id, s.channel.id)) == ("scripted", "default")
