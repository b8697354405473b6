"""/ask: a question to the channel's persona, answered by streaming into the reply."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.answering import place_of
from bot.discord_ui.sinks import InteractionSink
from bot.discord_ui.speaking import player_for
from bot.errors import BotError
from bot.services.conversation import check_text


class Ask(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(prompt="What do you want to ask?", speak="Also speak the answer in your voice channel")
    async def ask(self, interaction: discord.Interaction, prompt: str, speak: bool = False) -> None:
        """Ask the bot; the answer streams in, using this channel's persona and memory."""
        check_text(prompt, self.bot.settings.max_prompt_chars)
        answers = self.bot.answers
        answers.admit(interaction.user, interaction.guild)
        await interaction.response.defer(thinking=True)  # within Discord's 3 s, even when queued
        assert interaction.channel is not None
        async with answers.slot(interaction.guild):
            reply = await self.bot.services.conversations.start(
                place_of(interaction.channel, interaction.guild),
                prompt,
                interaction.user.display_name,
                interaction.user.id,
            )
            player, voice_notice = None, None
            if speak or reply.speak:
                try:
                    player = await player_for(self.bot.voice, interaction.user, interaction.guild)
                except BotError as exc:
                    voice_notice = f"{exc.user_message} (Answered in text only.)"
            outcome = await answers.render(reply, InteractionSink(interaction), interaction.user.id, player)
        if outcome.speech_error:
            voice_notice = f"I couldn't speak this answer: {outcome.speech_error}"
        if voice_notice:  # only now: a follow-up sent before the answer would take the answer's place
            await interaction.followup.send(voice_notice, ephemeral=True)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Ask(bot))
