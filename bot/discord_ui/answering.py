"""One answer on Discord, end to end: limits, the conversation service, streaming, Stop and Regenerate.

Shared by `/ask` and persona conversations in channels. Keeps track of running answers so shutdown can let them
finish or mark them interrupted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord

from bot.app import Services
from bot.db.place_settings import Place
from bot.discord_ui.controls import RegenerateControls, StopControls
from bot.discord_ui.permissions import is_server_admin
from bot.discord_ui.sinks import ReusingSink
from bot.errors import BotError, BusyError
from bot.services.conversation import Reply
from bot.services.limits import Cooldowns, GuildGate
from bot.streaming.pacing import PacerRegistry
from bot.streaming.renderer import MessageSink, Outcome, StreamRenderer
from bot.voice.player import GuildPlayer
from bot.voice.speech import speak_while_streaming

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 20.0
STOP_GRACE_SECONDS = 5.0


def place_of(channel: Any, guild: discord.Guild | None) -> Place:
    return Place(guild_id=guild.id if guild else None, channel_id=channel.id)


def left_out_notice(reply: Reply) -> str:
    count = reply.left_out
    if not count:
        return ""
    return f"-# {count} older message{'s' if count != 1 else ''} did not fit in my memory for this answer."


class AnswerRunner:
    def __init__(self, services: Services, pacers: PacerRegistry | None = None) -> None:
        self.services = services
        settings = services.settings
        self.pacers = pacers or PacerRegistry()
        self.cooldowns = Cooldowns(settings.user_cooldown_seconds)
        self.gate = GuildGate(settings.guild_max_concurrent)
        self.accepting = True
        self._running: dict[StreamRenderer, asyncio.Task[Any]] = {}
        self._answer_ids = itertools.count(1)

    def admit(self, user: discord.abc.User, guild: discord.Guild | None) -> None:
        """Checks that need no waiting: shutting down, cooldown, a full queue. Raises BusyError saying when."""
        if not self.accepting:
            raise BusyError("I'm restarting; please ask again in a moment.")
        self.gate.check(guild.id if guild else None)
        self.cooldowns.check(user.id)

    @asynccontextmanager
    async def slot(self, guild: discord.Guild | None) -> AsyncIterator[None]:
        async with self.gate.slot(guild.id if guild else None):
            yield

    def allowed(self, asker_id: int) -> Any:
        admins = self.services.settings.admin_user_ids
        return lambda user: user.id == asker_id or is_server_admin(user, admins)

    async def render(
        self, reply: Reply, sink: MessageSink, asker_id: int, player: GuildPlayer | None = None
    ) -> Outcome:
        """Stream a started reply into the sink, with Stop while it streams and Regenerate after.

        With a player, each sentence is spoken as soon as it is complete; Stop stops the speech too.
        """
        pacer = self.pacers.for_channel(reply.place.channel_id)
        holder: dict[str, StreamRenderer] = {}
        stop = StopControls(self.allowed(asker_id), lambda: holder["renderer"].stop())
        outcome_box: dict[str, Outcome] = {}

        async def regenerate(interaction: discord.Interaction) -> None:
            await self.regenerate(interaction, reply, sink, outcome_box["outcome"], asker_id)

        again = RegenerateControls(self.allowed(asker_id), regenerate)
        renderer = StreamRenderer(sink, pacer, stop, again, notice=left_out_notice(reply))
        holder["renderer"] = renderer
        task = asyncio.current_task()
        assert task is not None
        self._running[renderer] = task
        try:
            pieces: AsyncIterator[str] = reply.stream()
            answer_id = next(self._answer_ids)
            if player is not None:
                pieces = speak_while_streaming(pieces, player, answer_id, reply.persona.voice)
            outcome = await renderer.run(pieces)
            if player is not None and answer_id in player.failures:
                outcome.speech_error = player.failures.pop(answer_id)
        finally:
            self._running.pop(renderer, None)
            stop.stop()
        outcome_box["outcome"] = outcome
        if outcome.status == "failed" and not isinstance(outcome.error, BotError):
            log.error("Answer failed in channel %s: %r", reply.place.channel_id, outcome.error)
        return outcome

    async def regenerate(
        self, interaction: discord.Interaction, previous: Reply, sink: MessageSink, outcome: Outcome, asker_id: int
    ) -> None:
        if previous.answer_turn_id is None:
            await interaction.followup.send("That answer was never stored, so it cannot be redone.", ephemeral=True)
            return
        try:
            self.admit(interaction.user, interaction.guild)
            async with self.slot(interaction.guild):
                reply = await self.services.conversations.regenerate(previous.place, previous.answer_turn_id)
                reusing = ReusingSink(sink, outcome.messages)
                await self.render(reply, reusing, asker_id)
                await reusing.delete_leftovers()
        except BotError as exc:
            await interaction.followup.send(exc.user_message, ephemeral=True)

    async def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Take no new work; let running answers finish for `grace` seconds, then stop them (stored as interrupted)."""
        self.accepting = False
        if not self._running:
            return
        log.info("Waiting up to %.0f s for %d running answers", grace, len(self._running))
        await asyncio.wait(set(self._running.values()), timeout=grace)
        for renderer in list(self._running):
            renderer.stop()
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=STOP_GRACE_SECONDS)
