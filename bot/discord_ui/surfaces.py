"""The surfaces a Discord question can be answered on: a slash command, a message, a button under an answer.

Each builds its answer's buttons: Stop while it streams, Regenerate (and Continue) after, for the asker and the
server's admins only; they ride on the answer's last message, in the configured layout (`MESSAGE_LAYOUT`). A
button under an answer answers again on a `ButtonSurface` of the interaction that pressed it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bot.answers.question import Question
from bot.answers.surface import AnswerActions, Controls
from bot.discord_ui.controls import finished_buttons, stop_buttons
from bot.discord_ui.layouts import Layout
from bot.discord_ui.permissions import is_server_admin
from bot.discord_ui.sinks import ChannelSink, InteractionSink, ReusingSink
from bot.discord_ui.speaking import player_for
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.renderer import MessageSink, Outcome
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer

log = logging.getLogger(__name__)

ERROR_NOTICE_SECONDS = 15  # a channel message cannot be ephemeral; this reply removes itself instead
QUEUED_NOTICE = "⏳ Your question is in line behind others here; the answer will appear in this channel."
QUEUED_REACTION = "⏳"


async def tell_privately(interaction: discord.Interaction, message: str) -> None:
    """Tell only the user, whatever state the interaction is in, leaving no public "thinking…" behind."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.response.type == discord.InteractionResponseType.deferred_channel_message:
            original = await interaction.original_response()
            if original.flags.loading:
                if original.flags.ephemeral:
                    await interaction.edit_original_response(content=message)
                    return
                # The first follow-up after a defer becomes the deferred response and keeps its visibility, so
                # a public "thinking…" is completed and deleted before the private message goes out.
                await interaction.edit_original_response(content="…")
                await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("Could not tell user %s (%s): %s", interaction.user.id, exc, message)


async def show_typing(channel: discord.abc.Messageable) -> None:
    """The typing indicator: a message's acknowledgement. A channel that refuses it still gets its answer."""
    with contextlib.suppress(discord.HTTPException):
        await channel.typing()


class _DiscordSurface:
    """What every Discord surface shares: its answer's buttons, and who may press them."""

    def __init__(self, voice: VoiceManager | None, admin_ids: list[int], layout: Layout) -> None:
        self._voice, self._admin_ids, self._layout = voice, admin_ids, layout
        self._made: MessageSink | None = None

    def sink(self) -> MessageSink:
        if self._made is None:
            self._made = self._new_sink()
        return self._made

    def _new_sink(self) -> MessageSink:
        raise NotImplementedError

    async def waiting(self) -> None:
        return None

    def controls(self, question: Question, actions: AnswerActions) -> Controls:
        asker_id, admin_ids, voice, layout = question.asker.id, self._admin_ids, self._voice, self._layout

        def allowed(user: discord.abc.User) -> bool:
            return user.id == asker_id or is_server_admin(user, admin_ids)

        def again(interaction: discord.Interaction) -> ButtonSurface:
            return ButtonSurface(interaction, self.sink(), actions.shown(), voice, admin_ids, layout)

        async def regenerate(interaction: discord.Interaction) -> None:
            await actions.redo("regenerate", again(interaction))

        async def resume(interaction: discord.Interaction) -> None:
            await actions.redo("continue", again(interaction))

        stop = stop_buttons(allowed, actions.stop)
        return Controls(
            stop,
            lambda can_continue: finished_buttons(allowed, regenerate, resume if can_continue else None),
            stop.retire,
        )


class InteractionSurface(_DiscordSurface):
    """A slash command: deferred at once (privately while it waits in line), answered in its response."""

    def __init__(
        self, interaction: discord.Interaction, voice: VoiceManager | None, admin_ids: list[int], layout: Layout
    ) -> None:
        super().__init__(voice, admin_ids, layout)
        self._interaction = interaction
        self._queued = False

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_interaction(self._interaction.token, channel_id)  # its own webhook bucket

    async def acknowledge(self, queued: bool) -> None:
        self._queued = queued
        await self._interaction.response.defer(ephemeral=queued, thinking=True)  # within Discord's 3 s

    async def waiting(self) -> None:
        try:  # a courtesy: the answer comes all the same
            await self._interaction.edit_original_response(content=QUEUED_NOTICE)
        except discord.HTTPException as exc:
            log.warning("Could not tell user %s they are in line: %s", self._interaction.user.id, exc)

    async def refuse(self, message: str) -> None:
        await tell_privately(self._interaction, message)

    async def note(self, message: str) -> None:
        await tell_privately(self._interaction, message)

    def _new_sink(self) -> MessageSink:
        return InteractionSink(self._interaction, self._layout, use_original=not self._queued)

    async def player(self) -> GuildPlayer:
        return await player_for(self._voice, self._interaction.user, self._interaction.guild)

    async def finished(self, outcome: Outcome) -> None:
        return None


class MessageSurface(_DiscordSurface):
    """A mention, a DM or a chat message: a typing indicator, then a reply."""

    def __init__(
        self,
        message: discord.Message,
        voice: VoiceManager | None,
        admin_ids: list[int],
        me: discord.abc.Snowflake,
        layout: Layout,
        typing: bool = False,
    ) -> None:
        super().__init__(voice, admin_ids, layout)
        self._message, self._me = message, me
        self._typing = typing  # the typing indicator was already shown (before the place's settings were read)
        self._reacted = False

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_channel(channel_id)

    async def acknowledge(self, queued: bool) -> None:
        if not self._typing:
            await show_typing(self._message.channel)

    async def waiting(self) -> None:
        with contextlib.suppress(discord.HTTPException):  # a message has no private reply: a reaction says it waits
            await self._message.add_reaction(QUEUED_REACTION)
            self._reacted = True

    async def refuse(self, message: str) -> None:
        await self._clear_reaction()
        try:
            await self._message.reply(message, mention_author=False, delete_after=ERROR_NOTICE_SECONDS)
        except discord.HTTPException as exc:
            log.warning("Could not answer in channel %s: %s", self._message.channel.id, exc)

    async def note(self, message: str) -> None:
        log.info("Not told in channel %s (no private messages there): %s", self._message.channel.id, message)

    def _new_sink(self) -> MessageSink:
        return ChannelSink(self._message, self._layout)

    async def player(self) -> GuildPlayer:
        return await player_for(self._voice, self._message.author, self._message.guild)

    async def finished(self, outcome: Outcome) -> None:
        await self._clear_reaction()

    async def _clear_reaction(self) -> None:
        if self._reacted:
            self._reacted = False
            with contextlib.suppress(discord.HTTPException):
                await self._message.remove_reaction(QUEUED_REACTION, self._me)


class ButtonSurface(_DiscordSurface):
    """Regenerate or Continue under an earlier answer: the new text goes into that answer's messages."""

    def __init__(
        self,
        interaction: discord.Interaction,
        previous: MessageSink,
        messages: list[Any],
        voice: VoiceManager | None,
        admin_ids: list[int],
        layout: Layout,
    ) -> None:
        super().__init__(voice, admin_ids, layout)
        self._interaction = interaction
        self._sink = ReusingSink(previous, messages)

    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        return pacers.for_channel(channel_id)  # edits of earlier messages, counted with the channel's

    async def acknowledge(self, queued: bool) -> None:
        return None  # the button press was acknowledged when it was clicked

    async def refuse(self, message: str) -> None:
        await tell_privately(self._interaction, message)

    async def note(self, message: str) -> None:
        await tell_privately(self._interaction, message)

    def _new_sink(self) -> MessageSink:
        return self._sink

    async def player(self) -> GuildPlayer:
        return await player_for(self._voice, self._interaction.user, self._interaction.guild)

    async def finished(self, outcome: Outcome) -> None:
        await self._sink.delete_leftovers()
