"""After a crash: answers left streaming get their marker removed and a short notice, on Discord and in the store."""

from __future__ import annotations

import logging

import discord

from bot.discord_ui.layouts import ClassicLayout, layout_of, page_of
from bot.discord_ui.sinks import NO_PINGS
from bot.domain import Turn
from bot.services.conversation import MESSAGE_ID_SEPARATOR, ConversationService
from bot.streaming.page import Page
from bot.streaming.renderer import WRITING_MARKER

log = logging.getLogger(__name__)

INTERRUPTED_NOTICE = "-# ⚠️ Interrupted: the bot restarted before this answer was finished."


def message_places(encoded: str | None) -> list[tuple[int, int]]:
    places = []
    for part in (encoded or "").split(MESSAGE_ID_SEPARATOR):
        channel, _, message = part.partition(":")
        if channel.isdigit() and message.isdigit():
            places.append((int(channel), int(message)))
    return places


async def _mend(client: discord.Client, places: list[tuple[int, int]]) -> str:
    """Edit the answer's messages as they stand, each in its own layout; returns the text they showed.

    The notice goes on the last message, where the answer stopped; no message keeps a Stop button."""
    shown: list[str] = []
    for index, (channel_id, message_id) in enumerate(places):
        channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        message = await channel.fetch_message(message_id)  # type: ignore[union-attr]
        page = page_of(message)
        body = page.body.removesuffix(WRITING_MARKER)
        shown.append(body)
        mended = Page(body, INTERRUPTED_NOTICE) if index == len(places) - 1 else Page(body)
        if mended != page or _has_buttons(message):
            await message.edit(**layout_of(message, ClassicLayout()).parts(mended), allowed_mentions=NO_PINGS)
    return "\n\n".join(shown)


def _has_buttons(message: discord.Message) -> bool:
    return any(isinstance(c, discord.components.ActionRow) for c in message.components)


async def recover_interrupted(client: discord.Client, conversations: ConversationService, left: list[Turn]) -> None:
    for turn in left:
        places = message_places(turn.message_ids)
        shown = None
        if places:
            try:
                shown = await _mend(client, places)
            except discord.HTTPException as exc:
                log.warning("Could not mark interrupted answer %d on Discord: %s", turn.id, exc)
        await conversations.mark_interrupted(turn.id, shown)
    log.info("Marked %d answers interrupted by the last shutdown", len(left))
