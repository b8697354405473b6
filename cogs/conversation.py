"""Persona conversations: answers to ordinary messages where chat is on, to mentions, and in DMs.

Reading ordinary messages needs the privileged Message Content intent; without it Discord still delivers the
text of messages that mention the bot and of DMs, so those keep working.
"""

from __future__ import annotations

import re

import discord
from discord.ext import commands

from bot.answers.request import AnswerRequest, Path
from bot.discord_bot import HFBot
from bot.discord_ui.places import place_of
from bot.discord_ui.surfaces import MessageSurface


class Conversation(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    def _addressed_text(self, message: discord.Message) -> str:
        """The message without the bot's mention (both <@id> and <@!id> forms)."""
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", "", message.content).strip()

    async def _path(self, message: discord.Message) -> Path | None:
        """How the message addresses the bot, or None when it is not for the bot."""
        if (
            message.author.bot
            or self.bot.user is None
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return None
        if message.guild is None:
            return "dm"
        if self.bot.user in message.mentions:
            return "mention"
        resolved = await self.bot.places.resolved(place_of(message.channel, message.guild))
        return "chat" if resolved.persona_chat else None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        path = await self._path(message)
        text = self._addressed_text(message) if path else ""
        if path is None or not text:
            return
        assert self.bot.user is not None
        request = AnswerRequest(
            place=place_of(message.channel, message.guild),
            asker_id=message.author.id,
            asker_name=message.author.display_name,
            text=text,
            path=path,
            names={m.id: m.display_name for m in message.mentions},
        )
        await self.bot.answers.answer(request, MessageSurface(message, self.bot.voice, self.bot.user))


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Conversation(bot))
