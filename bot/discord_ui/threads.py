"""Answers that open a thread on their question (`auto_thread`): the thread is opened on the user's message and the
answer is written in it, so the conversation goes on there."""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord

from bot.discord_ui.layouts import Layout
from bot.discord_ui.sinks import _RateLimitAware, created
from bot.discord_ui.surfaces import MessageSurface, show_typing
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.page import Page
from bot.streaming.renderer import MessageSink
from bot.voice.manager import VoiceManager

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day without messages
THREAD_NAME_CHARS = 90  # Discord allows 100


def thread_name(prompt: str) -> str:
    name = " ".join(prompt.split()) or "Conversation"
    return name if len(name) <= THREAD_NAME_CHARS else name[: THREAD_NAME_CHARS - 1] + "…"


async def open_thread(message: discord.Message, name: str) -> discord.Thread | None:
    """A public thread on `message`, or None when Discord refuses (no Create Public Threads, already one)."""
    try:
        return await message.create_thread(name=thread_name(name), auto_archive_duration=THREAD_ARCHIVE_MINUTES)
    except discord.HTTPException as exc:
        log.warning("Could not open a thread in channel %s: %s", message.channel.id, exc)
        return None


class ThreadSink(_RateLimitAware):
    """Messages written in the thread (a reply cannot cross from the channel into it)."""

    def __init__(self, thread: discord.Thread, layout: Layout) -> None:
        self._thread, self.layout = thread, layout

    async def create(self, page: Page) -> Any:
        try:
            return await self._thread.send(**created(self.layout.parts(page)))
        except discord.HTTPException as exc:
            self._reraise(exc)


class ThreadSurface(MessageSurface):
    """A mention where auto_thread is on: typing and the answer in the thread opened on it."""

    def __init__(
        self,
        message: discord.Message,
        thread: discord.Thread,
        voice: VoiceManager | None,
        admin_ids: list[int],
        me: discord.abc.Snowflake,
        layout: Layout,
    ) -> None:
        super().__init__(message, voice, admin_ids, me, layout)
        self._thread = thread

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_channel(self._thread.id)

    async def acknowledge(self, queued: bool) -> None:
        await show_typing(self._thread)

    def _new_sink(self) -> MessageSink:
        return ThreadSink(self._thread, self._layout)
