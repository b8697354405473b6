"""Persona conversations: answers to ordinary messages where chat is on, to mentions, and in DMs.

Reading ordinary messages needs the privileged Message Content intent; without it Discord still delivers the
text of messages that mention the bot and of DMs, so those keep working.
"""

from __future__ import annotations

import re

import discord
from discord.ext import commands

from bot.answers.question import Path, Question
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import read_attachments, reply_chain
from bot.discord_ui.places import place_of
from bot.domain import Asker, Extras

NO_TEXT = "Please look at what I attached."  # a message that is only a file or an image


class Conversation(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    def _addressed_text(self, message: discord.Message) -> str:
        """The message without the bot's mention (both <@id> and <@!id> forms)."""
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", "", message.content).strip()

    def _replies_to_me(self, message: discord.Message) -> bool:
        """A reply to one of the bot's answers continues from it, with or without a mention."""
        parent = message.reference.resolved if message.reference is not None else None
        return (
            isinstance(parent, discord.Message) and self.bot.user is not None and parent.author.id == self.bot.user.id
        )

    async def _path(self, message: discord.Message) -> Path | None:
        """How the message addresses the bot, or None when it is not for the bot."""
        if (
            message.author.bot
            or self.bot.user is None
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return None
        if isinstance(message.channel, discord.Thread) and (message.channel.archived or message.channel.locked):
            return None  # a closed conversation: left alone
        if message.guild is None:
            return "dm"
        if self.bot.user in message.mentions or self._replies_to_me(message):
            return "mention"
        resolved = await self.bot.services.places.resolved(place_of(message.channel, message.guild))
        return "chat" if resolved.persona_chat else None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        path = await self._path(message)
        text = self._addressed_text(message) if path else ""
        if path is None or not (text or message.attachments):
            return
        me = self.bot.user
        assert me is not None

        async def gather() -> Extras:  # after the typing indicator: downloads take a moment
            extras = Extras(quotes=await reply_chain(message, me) if message.reference is not None else [])
            await read_attachments(list(message.attachments), extras)
            return extras

        question = Question(
            place=place_of(message.channel, message.guild),
            asker=Asker(message.author.id, message.author.display_name),
            text=text or NO_TEXT,
            path=path,
            names={m.id: m.display_name for m in message.mentions},
            gather=gather,
        )
        await self.bot.services.answers.answer(question, self.bot.surfaces.message(message, me))


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Conversation(bot))
