"""A question asked aloud in a voice channel: the transcript and the written answer go to the channel's text chat,
the answer is spoken in the channel sentence by sentence.

The transcript line is posted when the question is taken; the answer replies to it. A voice channel's chat has no
private replies, so a refusal is a short line there that removes itself.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bot.discord_ui.layouts import Layout
from bot.discord_ui.sinks import NO_PINGS, ChannelSink, created
from bot.discord_ui.surfaces import ERROR_NOTICE_SECONDS, _DiscordSurface
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import MessageSink, Outcome
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer

log = logging.getLogger(__name__)

SAID = "🎙️ **{name}** said: {transcript}"


def said_line(name: str, transcript: str) -> str:
    return SAID.format(name=discord.utils.escape_markdown(name), transcript=transcript)


class ChatSink(ChannelSink):
    """Replies to the transcript line when it was posted, else plain messages in the chat."""

    def __init__(self, channel: Any, said: Any | None, layout: Layout) -> None:
        super().__init__(said, layout)  # type: ignore[arg-type]  # None: no transcript line to reply to
        self._channel = channel
        self._replied = said is None

    async def create(self, page: Page) -> Any:
        if not self._replied:
            return await super().create(page)
        try:
            return await self._channel.send(**created(self.layout.parts(page)))
        except discord.HTTPException as exc:
            self._reraise(exc)


class VoiceSurface(_DiscordSurface):
    def __init__(
        self,
        channel: Any,  # the voice channel (its text chat is where messages go)
        name: str,
        transcript: str,
        player: GuildPlayer,
        voice: VoiceManager | None,
        admin_ids: list[int],
        layout: Layout,
    ) -> None:
        super().__init__(voice, admin_ids, layout)
        self._channel, self._name, self._transcript, self._player = channel, name, transcript, player
        self._said: Any | None = None

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_channel(channel_id)

    async def acknowledge(self, queued: bool) -> None:
        try:
            self._said = await self._channel.send(said_line(self._name, self._transcript), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("Could not post a transcript in voice channel %s: %s", self._channel.id, exc)

    async def refuse(self, message: str) -> None:
        with contextlib.suppress(discord.HTTPException):
            text = f"{discord.utils.escape_markdown(self._name)}: {message}"
            await self._channel.send(text, allowed_mentions=NO_PINGS, delete_after=ERROR_NOTICE_SECONDS)

    async def note(self, message: str) -> None:
        log.info("Not told in voice channel %s (no private messages there): %s", self._channel.id, message)

    def _new_sink(self) -> MessageSink:
        return ChatSink(self._channel, self._said, self._layout)

    async def player(self) -> GuildPlayer:
        return self._player

    async def finished(self, outcome: Outcome) -> None:
        return None
