"""/tools list | enable | disable — which tools the model may use in this server. Switching is for server admins."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.permissions import require_server_admin
from bot.services.tools import zone_names

AUTOCOMPLETE_LIMIT = 25


@app_commands.default_permissions(manage_guild=True)  # hides it from others; each command checks again
class ToolsCog(commands.GroupCog, group_name="tools", group_description="Tools the model may use here"):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="list")
    @app_commands.guild_only()
    async def list_tools(self, interaction: discord.Interaction) -> None:
        """The tools the model may call in this server, and whether each is on (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        assert interaction.guild is not None
        states = await self.bot.services.tools.listing(interaction.guild.id)
        lines = [
            f"- {'✅' if s.enabled else '⛔'} `{s.spec.name}` ({_source(s.spec.source)}) — {s.spec.description}"[:300]
            for s in states
        ]
        text = "Tools here:\n" + "\n".join(lines) if lines else "This bot has no tools."
        await interaction.response.send_message(text[:2000], ephemeral=True)

    @app_commands.command(name="enable")
    @app_commands.describe(name="Tool name")
    @app_commands.guild_only()
    async def enable(self, interaction: discord.Interaction, name: str) -> None:
        """Let the model use a tool in this server (admins)."""
        await self._switch(interaction, name, True)

    @app_commands.command(name="disable")
    @app_commands.describe(name="Tool name")
    @app_commands.guild_only()
    async def disable(self, interaction: discord.Interaction, name: str) -> None:
        """Stop the model from using a tool in this server (admins)."""
        await self._switch(interaction, name, False)

    async def _switch(self, interaction: discord.Interaction, name: str, enabled: bool) -> None:
        require_server_admin(interaction, self.bot.settings.admin_user_ids)  # checked here, not only by Discord
        assert interaction.guild is not None
        spec = await self.bot.services.tools.switch(interaction.guild.id, interaction.user.id, name, enabled)
        state = "on" if enabled else "off"
        await interaction.response.send_message(f"`{spec.name}` is now **{state}** in this server.", ephemeral=True)

    @app_commands.command(name="timezone")
    @app_commands.describe(name="IANA time zone, e.g. Europe/Paris; leave empty to use the bot's default")
    @app_commands.guild_only()
    async def timezone(self, interaction: discord.Interaction, name: str | None = None) -> None:
        """The time zone `current_time` gives in this server besides UTC (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)  # checked here, not only by Discord
        assert interaction.guild is not None
        tools = self.bot.services.tools
        zone = await tools.set_time_zone(interaction.guild.id, interaction.user.id, name)
        if zone is not None:
            text = f"Time zone here is now **{zone}**."
        elif tools.time_zone:
            text = f"This server now uses the bot's time zone, **{tools.time_zone}**."
        else:
            text = "This server now gets the time in UTC only."
        await interaction.response.send_message(text, ephemeral=True)

    @timezone.autocomplete("name")
    async def zone_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.lower().replace(" ", "_")
        names = [z for z in zone_names() if wanted in z.lower()]
        return [app_commands.Choice(name=z, value=z) for z in names[:AUTOCOMPLETE_LIMIT]]

    @enable.autocomplete("name")
    @disable.autocomplete("name")
    async def tool_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        names = [n for n in self.bot.services.tools.catalogue.names() if current.lower() in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in names[:AUTOCOMPLETE_LIMIT]]


def _source(source: str) -> str:
    return "built-in" if source == "builtin" else f"MCP server {source}"


async def setup(bot: HFBot) -> None:
    await bot.add_cog(ToolsCog(bot))
