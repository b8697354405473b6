"""Builds the surface for each Discord question, with what every surface needs (voice, the admin allowlist)."""

from __future__ import annotations

import discord

from bot.answers.surface import Surface
from bot.discord_ui.external import answer_surface
from bot.discord_ui.layouts import LayoutName, layout_named
from bot.discord_ui.surfaces import MessageSurface
from bot.discord_ui.threads import ThreadSurface
from bot.voice.manager import VoiceManager


class DiscordSurfaces:
    def __init__(self, voice: VoiceManager | None, admin_ids: list[int], layout: LayoutName = "components") -> None:
        self.voice, self.admin_ids, self.layout = voice, admin_ids, layout_named(layout)

    def interaction(self, interaction: discord.Interaction) -> Surface:
        """The interaction's response where the bot is a member; the interaction alone where it is not."""
        return answer_surface(interaction, self.voice, self.admin_ids, self.layout)

    def message(self, message: discord.Message, me: discord.abc.Snowflake, typing: bool = False) -> MessageSurface:
        """A reply to the message; `typing` when its typing indicator was already shown."""
        return MessageSurface(message, self.voice, self.admin_ids, me, self.layout, typing)

    def thread(self, message: discord.Message, thread: discord.Thread, me: discord.abc.Snowflake) -> ThreadSurface:
        """A mention where auto_thread is on: answered in the thread opened on it."""
        return ThreadSurface(message, thread, self.voice, self.admin_ids, me, self.layout)
