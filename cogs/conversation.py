"""Persona conversations: answers to ordinary messages where chat is on, to mentions, and in DMs; threads opened on
the question where auto_thread is on; forum posts.

Reading ordinary messages needs the privileged Message Content intent; without it Discord still delivers the
text of messages that mention the bot and of DMs, so those keep working.
"""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands

from bot.answers.question import Path, Question
from bot.answers.surface import Surface
from bot.db.place_settings import Resolved
from bot.discord_bot import HFBot
from bot.discord_ui.attachments import read_attachments, reply_chain
from bot.discord_ui.origins import ThreadOrigin, in_forum, post_text
from bot.discord_ui.places import place_of
from bot.discord_ui.surfaces import show_typing
from bot.discord_ui.threads import open_thread
from bot.domain import Asker, Extras, Place
from bot.services.conversation import ONLY_ATTACHED

log = logging.getLogger(__name__)

NO_TEXT = ONLY_ATTACHED  # a message that is only a file, an image or a recording


class Conversation(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        self.origin = ThreadOrigin(bot.services.origins)

    def _addressed_text(self, message: discord.Message) -> str:
        """The message without the bot's mention (both <@id> and <@!id> forms)."""
        assert self.bot.user is not None
        text = re.sub(rf"<@!?{self.bot.user.id}>", "", message.content).strip()
        if (
            isinstance(message.channel, discord.Thread)
            and message.id == message.channel.id
            and in_forum(message.channel)
        ):
            text = post_text(message.channel, text)  # a new forum post: its title belongs to the question
        return text

    def _replies_to_me(self, message: discord.Message) -> bool:
        """A reply to one of the bot's answers continues from it, with or without a mention."""
        parent = message.reference.resolved if message.reference is not None else None
        return (
            isinstance(parent, discord.Message) and self.bot.user is not None and parent.author.id == self.bot.user.id
        )

    async def _path(self, message: discord.Message) -> tuple[Path | None, Resolved | None]:
        """How the message addresses the bot (None when it is not for the bot), and the settings in force there."""
        if (
            message.author.bot
            or self.bot.user is None
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return None, None
        if isinstance(message.channel, discord.Thread) and (message.channel.archived or message.channel.locked):
            return None, None  # a closed conversation: left alone
        if message.guild is None:
            return "dm", None
        mention = self.bot.user in message.mentions or self._replies_to_me(message)
        if mention and not isinstance(message.channel, discord.TextChannel):
            return "mention", None  # no auto_thread outside a text channel: nothing to read
        if mention:  # a question for certain: acknowledged before the settings (auto_thread) are read
            await show_typing(message.channel)
        resolved = await self.bot.services.places.resolved(place_of(message.channel, message.guild))
        return ("mention" if mention else "chat" if resolved.persona_chat else None), resolved

    async def _where(
        self, message: discord.Message, text: str, resolved: Resolved | None, me: discord.abc.Snowflake, typing: bool
    ) -> tuple[Place, Surface]:
        """Where the answer goes: a reply here, or (auto_thread) a thread opened on the question. `typing`: the
        channel's typing indicator was already shown."""
        place = place_of(message.channel, message.guild)
        channel = message.channel
        if resolved is None or not resolved.auto_thread or not isinstance(channel, discord.TextChannel):
            return place, self.bot.surfaces.message(message, me, typing)
        thread = await open_thread(message, text)
        if thread is None:  # no Create Public Threads: the answer stays in the channel
            return place, self.bot.surfaces.message(message, me, typing)
        place = Place(place.guild_id, thread.id, parent_id=channel.id)
        try:  # the conversation goes on there without mentions
            await self.bot.services.places.set_flag(place, "channel", "persona_chat", True, message.author.id)
        except Exception:  # the question is still answered in its thread; later ones need a mention
            log.exception("Could not turn chat on in the new thread %s", thread.id)
        return place, self.bot.surfaces.thread(message, thread, me)

    async def _extras(self, message: discord.Message, me: discord.abc.Snowflake) -> Extras:
        """What the message brings: what its thread was opened on, its reply chain, its attachments."""
        extras = Extras()
        if isinstance(message.channel, discord.Thread):
            extras.quotes.extend(await self.origin.quotes(message.channel, me, message.id))
        if message.reference is not None:
            extras.quotes.extend(await reply_chain(message, me))
        await read_attachments(list(message.attachments), extras, self.bot.services.transcriber)
        return extras

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        path, resolved = await self._path(message)
        text = self._addressed_text(message) if path else ""
        if path is None or not (text or message.attachments):
            return
        me = self.bot.user
        assert me is not None
        typing = path == "mention" and resolved is not None  # see _path
        place, surface = await self._where(message, text, resolved, me, typing)
        question = Question(
            place=place,
            asker=Asker(message.author.id, message.author.display_name),
            text=text or NO_TEXT,
            path=path,
            names={m.id: m.display_name for m in message.mentions},
            gather=lambda: self._extras(message, me),  # after the typing indicator: downloads take a moment
        )
        await self.bot.services.answers.answer(question, surface)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(Conversation(bot))
