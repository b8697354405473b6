"""/ask: a question to the channel's persona, answered by streaming into the reply.

It works wherever a user is: in servers that invited the bot, in the DM with it, and through a user install in
servers and chats that did not (answered through the interaction alone, see `bot/discord_ui/external.py`).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers.question import Question
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import read_attachments
from bot.discord_ui.origins import ThreadOrigin
from bot.discord_ui.places import bot_is_there, interaction_place
from bot.discord_ui.surfaces import tell_privately
from bot.discord_ui.threads import open_thread
from bot.domain import Asker, Extras, Place

log = logging.getLogger(__name__)

NO_THREAD = (
    "I couldn't open a thread here: I need the **Create Public Threads** permission in this channel. "
    "The answer is in the channel above."
)
NO_THREAD_AWAY = "I can only open threads in servers that invited me; the answer is above."


class Ask(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        self.origin = ThreadOrigin(bot.services.origins)

    @app_commands.command(name="ask")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
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
        channel, there, me = interaction.channel, bot_is_there(interaction), self.bot.user
        assert me is not None

        async def gather() -> Extras:  # after the interaction is acknowledged: a download may take longer than 3 s
            extras = Extras()
            if there and isinstance(channel, discord.Thread):  # what the thread was opened on
                extras.quotes.extend(await self.origin.quotes(channel, me))
            if file is not None:
                await read_attachments([file], extras, self.bot.services.transcriber)
            return extras

        question = Question(
            place=interaction_place(interaction),
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
        if not bot_is_there(interaction):
            await tell_privately(interaction, NO_THREAD_AWAY)
            return
        if interaction.guild is None or not isinstance(channel, discord.TextChannel):
            await tell_privately(interaction, "Threads can only be opened in a server's text channel.")
            return
        opened = await open_thread(answer, prompt)
        if opened is None:
            await tell_privately(interaction, NO_THREAD)
            return
        here = Place(interaction.guild.id, opened.id, parent_id=channel.id)
        await self.bot.services.places.set_flag(here, "channel", "persona_chat", True, interaction.user.id)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Ask(bot))
