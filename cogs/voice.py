"""/voice join | leave | speak — the bot in voice channels."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.flags import ON_OFF, switch_channel_flag
from bot.discord_ui.speaking import player_for
from bot.errors import BotError


class VoiceCog(commands.GroupCog, group_name="voice", group_description="Spoken answers in voice channels"):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="join")
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction) -> None:
        """Join your voice channel to speak answers there."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await player_for(self.bot.services.voice, interaction.user, interaction.guild)
        await interaction.followup.send("I'm in your voice channel. Use `/ask speak:true` or `/voice speak on`.")

    @app_commands.command(name="leave")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction) -> None:
        """Leave the voice channel."""
        assert interaction.guild is not None
        if self.bot.services.voice is None or not await self.bot.services.voice.leave(interaction.guild.id):
            raise BotError("I'm not in a voice channel here.")
        await interaction.response.send_message("Left the voice channel.", ephemeral=True)

    @app_commands.command(name="speak")
    @app_commands.guild_only()
    @app_commands.describe(mode="on: speak every answer in this channel aloud; off: text only")
    @app_commands.choices(mode=ON_OFF)
    async def speak(self, interaction: discord.Interaction, mode: app_commands.Choice[str]) -> None:
        """Speak this channel's answers in voice (Manage Channels)."""
        on = await switch_channel_flag(self.bot.services.places, interaction, "speak", mode)
        text = "Answers here will also be spoken in voice." if on else "Answers here are text only."
        await interaction.response.send_message(text)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(VoiceCog(bot))
