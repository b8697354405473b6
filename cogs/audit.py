"""/changes — the audit trail of this server's settings changes (admins)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.permissions import require_server_admin


class AuditCog(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="changes")
    @app_commands.guild_only()
    async def changes(self, interaction: discord.Interaction) -> None:
        """Who changed the bot's settings here, and when (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        assert interaction.guild is not None
        entries = await self.bot.services.places.recent_changes(interaction.guild.id)
        lines = [
            f"- <t:{int(e.created_at.timestamp())}:R> <@{e.actor_id}> `{e.action}` {e.target} {e.detail}".rstrip()
            for e in entries
        ]
        text = "Recent changes here:\n" + "\n".join(lines) if lines else "No settings were changed here yet."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(AuditCog(bot))
