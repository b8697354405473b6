"""/forget — clear this channel's conversation memory."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.permissions import require_channel_manager
from bot.discord_ui.places import place_of


class Memory(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="forget")
    async def forget(self, interaction: discord.Interaction) -> None:
        """Clear what the bot remembers of this channel's conversation (Manage Channels)."""
        require_channel_manager(interaction)
        assert interaction.channel is not None
        removed = await self.bot.services.conversations.clear_history(place_of(interaction.channel, interaction.guild))
        await interaction.response.send_message(f"Forgot this channel's conversation ({removed} messages).")


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Memory(bot))
