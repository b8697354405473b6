"""/ask: a question to the channel's persona, answered by streaming into the reply."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers.request import AnswerRequest
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import read_attachments
from bot.discord_ui.places import place_of
from bot.discord_ui.surfaces import InteractionSurface
from bot.domain import Extras


class Ask(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        prompt="What do you want to ask?",
        speak="Also speak the answer in your voice channel",
        file="A text file, PDF or image to ask about",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        prompt: str,
        speak: bool = False,
        file: discord.Attachment | None = None,
    ) -> None:
        """Ask the bot; the answer streams in, using this channel's persona and memory."""
        assert interaction.channel is not None

        async def gather() -> Extras:  # after the interaction is acknowledged: a download may take longer than 3 s
            extras = Extras()
            if file is not None:
                await read_attachments([file], extras)
            return extras

        request = AnswerRequest(
            place=place_of(interaction.channel, interaction.guild),
            asker_id=interaction.user.id,
            asker_name=interaction.user.display_name,
            text=prompt,
            path="ask",
            speak=speak,
            gather=gather,
        )
        await self.bot.answers.answer(request, InteractionSurface(interaction, self.bot.voice))


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Ask(bot))
