"""/tools list | enable | disable: admins switch tools per server; the change is stored, audited, and followed."""

from __future__ import annotations

import discord
import pytest
from simcord.backend.errors import SetupError

from bot.app import Services
from bot.db import audit
from tests.cogs.helpers import server


async def test_members_are_refused_and_nothing_changes(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    with pytest.raises(SetupError, match="default-member-permissions"):  # Discord hides /tools from members
        await s.member.slash(s.channel, "tools disable", name="calculate")
    # Someone with Manage Server but not on ADMIN_USER_IDS sees the command; the bot refuses it at runtime.
    admins = s.guild.create_role("Other admins", permissions=discord.Permissions(manage_guild=True))
    unlisted = s.guild.add_member(simcord_env.create_user("carl"), roles=[admins])
    simcord_bot.settings.admin_user_ids.append(s.admin.id)
    for command, options in (("tools list", {}), ("tools disable", {"name": "calculate"})):
        denied = await unlisted.slash(s.channel, command, **options)
        assert denied.ephemeral and denied.response.content == "Only server admins (Manage Server) can do that."
    assert all(state.enabled for state in await services.tools.listing(s.guild.id))
    async with services.db.sessions() as session:
        assert await audit.recent(session) == []


async def test_an_admin_lists_and_switches_tools(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    listed = await s.admin.slash(s.channel, "tools list")
    assert listed.ephemeral and "- ✅ `search_history` (built-in) — Full-text search" in listed.response.content
    off = await s.admin.slash(s.channel, "tools disable", name="search_history")
    assert off.ephemeral and off.response.content == "`search_history` is now **off** in this server."
    listed = await s.admin.slash(s.channel, "tools list")
    assert "- ⛔ `search_history`" in listed.response.content and "- ✅ `calculate`" in listed.response.content
    on = await s.admin.slash(s.channel, "tools enable", name="search_history")
    assert on.response.content == "`search_history` is now **on** in this server."
    unknown = await s.admin.slash(s.channel, "tools enable", name="rm_rf")
    assert unknown.ephemeral and unknown.response.content.startswith("There is no tool called `rm_rf`. Tools: ")
    choices = await s.admin.autocomplete(s.channel, "tools disable", "name", "calc")
    assert [c["value"] for c in choices] == ["calculate"]
    async with services.db.sessions() as session:
        entries = await audit.recent(session)
    assert [(e.actor_id, e.action, e.detail) for e in reversed(entries)] == [
        (s.admin.id, "tool.disable", "search_history"),
        (s.admin.id, "tool.enable", "search_history"),
    ]
