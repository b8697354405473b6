"""/tools list | enable | disable: admins switch tools per server; the change is stored, audited, and followed."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest
from simcord.backend.errors import SetupError

from bot.app import Services
from bot.db import audit
from bot.domain import Place
from bot.tools.builtins import CurrentTime
from bot.tools.types import ToolPlace
from tests.cogs.helpers import server
from tests.standins.scripted import ScriptedBackend


class ToolTaker(ScriptedBackend):
    """A scripted model that says it takes tools (only whether tools are offered matters here)."""

    async def tool_support(self) -> bool:
        return True


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


async def test_an_admin_sets_the_servers_time_zone_and_current_time_gives_it(simcord_env, services: Services) -> None:
    s = server(simcord_env)
    choices = await s.admin.autocomplete(s.channel, "tools timezone", "name", "new york")
    assert [c["value"] for c in choices] == ["America/New_York"]
    done = await s.admin.slash(s.channel, "tools timezone", name="america/new_york")
    assert done.ephemeral and done.response.content == "Time zone here is now **America/New_York**."
    assert await services.tools.time_zone_for(s.guild.id) == "America/New_York"
    place = Place(guild_id=s.guild.id, channel_id=s.channel.id)
    clock = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    said = await CurrentTime(lambda: clock).run({}, ToolPlace(s.guild.id, s.channel.id, await zone_at(services, place)))
    assert said == "UTC: Wednesday 2026-07-01 12:00:00\nAmerica/New_York: Wednesday 2026-07-01 08:00:00 (UTC-0400)"
    cleared = await s.admin.slash(s.channel, "tools timezone")
    assert cleared.response.content == "This server now gets the time in UTC only."
    assert await services.tools.time_zone_for(s.guild.id) is None
    services.tools.time_zone = "Europe/Paris"  # the bot-wide TIME_ZONE is the fallback
    assert await services.tools.time_zone_for(s.guild.id) == "Europe/Paris"
    async with services.db.sessions() as session:
        entries = await audit.recent(session)
    assert [(e.actor_id, e.action, e.detail) for e in reversed(entries)] == [
        (s.admin.id, "tool.time_zone", "America/New_York"),
        (s.admin.id, "tool.time_zone", "cleared"),
    ]


async def test_a_bad_time_zone_or_a_member_stores_nothing(simcord_env, simcord_bot, services: Services) -> None:
    s = server(simcord_env)
    bad = await s.admin.slash(s.channel, "tools timezone", name="Mars/Olympus")
    assert (
        bad.ephemeral
        and bad.response.content == "`Mars/Olympus` is not a time zone I know. Pick one like `Europe/Paris`."
    )
    admins = s.guild.create_role("Other admins", permissions=discord.Permissions(manage_guild=True))
    unlisted = s.guild.add_member(simcord_env.create_user("carl"), roles=[admins])
    simcord_bot.settings.admin_user_ids.append(s.admin.id)
    denied = await unlisted.slash(s.channel, "tools timezone", name="Europe/Paris")
    assert denied.ephemeral and denied.response.content == "Only server admins (Manage Server) can do that."
    assert await services.tools.time_zone_for(s.guild.id) is None
    async with services.db.sessions() as session:
        assert await audit.recent(session) == []


async def zone_at(services: Services, place: Place) -> str | None:
    """The zone an answer here hands its tools (what `current_time` reads)."""
    run = await services.tools.for_answer(place, ToolTaker())
    assert run is not None
    return run.place.time_zone
