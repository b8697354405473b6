"""Persona conversations: answers to ordinary messages where chat is on, to mentions, and in DMs.

Reading ordinary messages needs the privileged Message Content intent; without it Discord still delivers the
text of messages that mention the bot and of DMs, so those keep working.
"""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.answering import place_of
from bot.discord_ui.sinks import ChannelSink
from bot.discord_ui.speaking import player_for
from bot.errors import BotError
from bot.services.conversation import check_text
from bot.voice.player import GuildPlayer

log = logging.getLogger(__name__)

ERROR_NOTICE_SECONDS = 15  # a message cannot be ephemeral; this reply removes itself instead


class Conversation(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    def _addressed_text(self, message: discord.Message) -> str:
        """The message without the bot's mention (both <@id> and <@!id> forms)."""
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", "", message.content).strip()

    async def _wants_answer(self, message: discord.Message) -> bool:
        if (
            message.author.bot
            or self.bot.user is None
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return False
        if message.guild is None or self.bot.user in message.mentions:
            return True
        resolved = await self.bot.services.places.resolved(place_of(message.channel, message.guild))
        return resolved.persona_chat

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not await self._wants_answer(message):
            return
        text = self._addressed_text(message)
        if not text:
            return
        answers = self.bot.answers
        try:
            check_text(text, self.bot.settings.max_prompt_chars)
            answers.admit(message.author, message.guild)
            place = place_of(message.channel, message.guild)
            async with message.channel.typing(), answers.slot(message.guild):
                reply = await self.bot.services.conversations.start(
                    place, text, message.author.display_name, message.author.id
                )
            player = await self._player(message) if reply.speak else None
            await answers.render(reply, ChannelSink(message), message.author.id, player)
        except BotError as exc:
            await message.reply(exc.user_message, mention_author=False, delete_after=ERROR_NOTICE_SECONDS)
        except discord.HTTPException as exc:
            log.warning("Could not answer in channel %s: %s", message.channel.id, exc)

    async def _player(self, message: discord.Message) -> GuildPlayer | None:
        try:
            return await player_for(self.bot.voice, message.author, message.guild)
        except BotError as exc:
            log.info("Not speaking the answer in %s: %s", message.channel.id, exc.user_message)
            return None


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Conversation(bot))
