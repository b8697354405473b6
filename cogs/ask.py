"""/ask: a question to the channel's persona, answered by streaming into the reply."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers.question import Question
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import read_attachments
from bot.discord_ui.places import place_of
from bot.discord_ui.surfaces import tell_privately
from bot.domain import Asker, Extras, Place

log = logging.getLogger(__name__)

NO_THREAD = (
    "I couldn't open a thread here: I need the **Create Public Threads** permission in this channel. "
    "The answer is in the channel above."
)


def thread_name(prompt: str) -> str:
    name = " ".join(prompt.split())
    return name if len(name) <= 90 else name[:89] + "…"  # Discord allows 100


class Ask(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        prompt="What do you want to ask?",
        speak="Also speak the answer in your voice channel",
        file="A text file, PDF or image to ask about",
        thread="Open a thread on the answer, where the conversation goes on without mentions",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        prompt: str,
        speak: bool = False,
        file: discord.Attachment | None = None,
        thread: bool = False,
    ) -> None:
        """Ask the bot; the answer streams in, using this channel's persona and memory."""
        assert interaction.channel is not None

        async def gather() -> Extras:  # after the interaction is acknowledged: a download may take longer than 3 s
            extras = Extras()
            if file is not None:
                await read_attachments([file], extras)
            return extras

        question = Question(
            place=place_of(interaction.channel, interaction.guild),
            asker=Asker(interaction.user.id, interaction.user.display_name),
            text=prompt,
            path="ask",
            speak=speak,
            gather=gather,
        )
        outcome = await self.bot.services.answers.answer(question, self.bot.surfaces.interaction(interaction))
        if thread and outcome is not None and outcome.messages:
            await self._open_thread(interaction, outcome.messages[0], prompt)

    async def _open_thread(self, interaction: discord.Interaction, answer: discord.Message, prompt: str) -> None:
        channel = interaction.channel
        if interaction.guild is None or not isinstance(channel, discord.TextChannel):
            await tell_privately(interaction, "Threads can only be opened in a server's text channel.")
            return
        try:
            opened = await answer.create_thread(name=thread_name(prompt), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning("Could not open a thread in channel %s: %s", channel.id, exc)
            await tell_privately(interaction, NO_THREAD)
            return
        here = Place(interaction.guild.id, opened.id, parent_id=channel.id)
        await self.bot.services.places.set_flag(here, "channel", "persona_chat", True, interaction.user.id)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Ask(bot))
