"""What a thread was opened on, for the answers given in it (as llmcord follows a thread to its starter message).

A thread opened on one of the bot's answers (by `/ask thread:true` or by a user) starts from that answer's message:
its question and answer come from the store, where the answer recorded its message ids; a thread on any other message
quotes that message and its reply chain. A forum post's starter message is the post itself. Quotes the thread's own
memory already holds (the question of an auto-thread, a post the bot answered) are left out.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import discord

from bot.discord_ui.attachments import quote_of, reply_chain
from bot.domain import Quote
from bot.services.origins import ThreadOrigins

log = logging.getLogger(__name__)

STARTERS_KEPT = 2048  # threads whose starter message is remembered


def in_forum(channel: object) -> bool:
    """A forum (or media) channel's post: its starter message is the post, inside the thread."""
    parent = channel.parent if isinstance(channel, discord.Thread) else None
    return parent is not None and parent.type in (discord.ChannelType.forum, discord.ChannelType.media)


def post_text(thread: discord.Thread, text: str) -> str:
    """A forum post's question: its title, then its message."""
    return f"{thread.name}\n\n{text}".strip() if thread.name and thread.name not in text else text


class ThreadOrigin:
    """Reads what threads were opened on, remembering each thread's starter message (or that it has none), so a busy
    thread costs Discord one read, not one per message."""

    def __init__(self, origins: ThreadOrigins) -> None:
        self.origins = origins
        self._starters: OrderedDict[int, discord.Message | None] = OrderedDict()

    async def starter_of(self, thread: discord.Thread) -> discord.Message | None:
        """The message a thread was started on: a forum post's first message, or the parent channel's message."""
        if thread.starter_message is not None:
            return thread.starter_message
        if thread.id in self._starters:
            self._starters.move_to_end(thread.id)
            return self._starters[thread.id]
        try:
            starter = await _fetch_starter(thread)
        except discord.HTTPException as exc:  # the bot may not read the parent channel, or Discord failed: ask again
            log.info("Could not read the starter message of thread %s: %s", thread.id, exc)
            return None
        self._starters[thread.id] = starter
        while len(self._starters) > STARTERS_KEPT:
            self._starters.popitem(last=False)
        return starter

    async def quotes(
        self, thread: discord.Thread, me: discord.abc.Snowflake, asking_id: int | None = None
    ) -> list[Quote]:
        """Quotes of what `thread` was opened on, oldest first ([] for the starter message itself, `asking_id`)."""
        if thread.id == asking_id:
            return []
        if not in_forum(thread) and thread.parent_id is not None:
            stored = await self.origins.answer_in(thread.parent_id, thread.id)
            if stored:
                return stored
        starter = await self.starter_of(thread)
        if starter is None:
            return []
        quotes = [*await reply_chain(starter, me), quote_of(starter, me, addressed=True)]
        if in_forum(thread):
            quotes[-1] = Quote(quotes[-1].author, post_text(thread, quotes[-1].text))
        return [q for q in quotes if q.text and not await self.origins.remembered(thread.id, q.text)]


async def _fetch_starter(thread: discord.Thread) -> discord.Message | None:
    where = thread if in_forum(thread) else thread.parent
    if where is None or thread.type == discord.ChannelType.private_thread:
        return None  # a private thread starts on no message
    try:
        return await where.fetch_message(thread.id)  # type: ignore[union-attr]
    except discord.NotFound:  # a thread opened on no message, or its message was deleted
        return None
