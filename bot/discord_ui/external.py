"""Answering where only the interaction reaches: a user install in a server that did not invite the bot, or in
someone else's DM or group chat.

Discord lets such an app answer through its interaction alone: the deferred response and at most five follow-ups,
no channel reads, no threads, no voice; and where the server does not let members use external apps, only the asker
sees the answer. The surface says so up front (a private defer, private follow-ups) instead of letting Discord
decide; the sink keeps an answer within the follow-ups, leaving one for a private remark, and marks a cut answer.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.answers.surface import Surface
from bot.discord_ui.layouts import Layout
from bot.discord_ui.places import answers_privately, bot_is_there
from bot.discord_ui.sinks import InteractionSink, created
from bot.discord_ui.surfaces import InteractionSurface
from bot.errors import BotError
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.page import Page, notice_room
from bot.streaming.renderer import WRITING_MARKER, MessageSink
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer

MAX_FOLLOWUPS = 5  # Discord's limit for an app the server did not install
ANSWER_FOLLOWUPS = MAX_FOLLOWUPS - 1  # one is kept for a private remark after the answer
CUT_NOTICE = "-# ✂️ Discord allows only a few messages per answer here, so the rest was left out."
NO_VOICE = "Spoken answers need the bot in the server; this answer is text only."


class _Unsent:
    """A message the follow-up limit did not allow: the renderer may edit it, nothing is sent."""

    async def edit(self, **_kwargs: Any) -> None:
        return None


class CappedInteractionSink(InteractionSink):
    """The deferred response, then at most `limit` follow-ups (private ones when the answer is private)."""

    def __init__(
        self, interaction: discord.Interaction, layout: Layout, use_original: bool, private: bool, limit: int
    ) -> None:
        super().__init__(interaction, layout, use_original)
        self._private, self._limit = private, limit
        self.room_for_cut = notice_room(CUT_NOTICE)  # any message may turn out to be the last one allowed
        self._followups = 0
        self._last: Any = None  # the last message really sent: it carries the cut notice
        self._shown = Page("")  # what it shows
        self.cut = False

    @property
    def message_limit(self) -> int:
        return self.layout.message_limit - self.room_for_cut

    async def create(self, page: Page) -> Any:
        if not self._used_original:
            self._last, self._shown = await super().create(page), page
            return self._last
        if self._followups >= self._limit:
            if not self.cut:
                self.cut = True
                await self.edit(self._last, self._shown)
            return _Unsent()
        kwargs = created(self.layout.parts(page)) | {"ephemeral": self._private}
        try:
            self._last = await self._interaction.followup.send(wait=True, **kwargs)
        except discord.HTTPException as exc:
            self._reraise(exc)
        self._followups += 1
        self._shown = page
        return self._last

    async def edit(self, handle: Any, page: Page) -> None:
        if isinstance(handle, _Unsent):
            return
        if handle is self._last:
            self._shown = page
            if self.cut:  # the answer's controls stay on the last message Discord let it write
                notice = "\n".join(n for n in (page.notice, CUT_NOTICE) if n)
                page = Page(page.body.removesuffix(WRITING_MARKER), notice, page.controls)
        await super().edit(handle, page)


class ExternalSurface(InteractionSurface):
    """A slash command or a modal where the bot is not a member: the interaction is all there is."""

    def __init__(self, interaction: discord.Interaction, admin_ids: list[int], layout: Layout) -> None:
        super().__init__(interaction, None, admin_ids, layout)
        self._private = answers_privately(interaction)

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_interaction(self._interaction.token, self._interaction.channel_id or channel_id)

    async def acknowledge(self, queued: bool) -> None:
        self._queued = queued
        await self._interaction.response.defer(ephemeral=queued or self._private, thinking=True)

    def _new_sink(self) -> MessageSink:
        return CappedInteractionSink(self._interaction, self._layout, not self._queued, self._private, ANSWER_FOLLOWUPS)

    async def player(self) -> GuildPlayer:
        raise BotError(NO_VOICE)


def answer_surface(
    interaction: discord.Interaction, voice: VoiceManager | None, admin_ids: list[int], layout: Layout
) -> Surface:
    """The interaction's response where the bot is a member; the interaction alone where it is not."""
    if bot_is_there(interaction):
        return InteractionSurface(interaction, voice, admin_ids, layout)
    return ExternalSurface(interaction, admin_ids, layout)
