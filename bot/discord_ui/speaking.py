"""Getting a voice player for a spoken answer."""

from __future__ import annotations

import discord

from bot.errors import BotError
from bot.voice.manager import VoiceManager
from bot.voice.player import GuildPlayer


async def player_for(voice: VoiceManager | None, user: discord.abc.User, guild: discord.Guild | None) -> GuildPlayer:
    """The guild's player, joining the user's voice channel when not connected yet. Raises BotError saying why not."""
    if voice is None:
        raise BotError("Spoken answers are not available here.")
    if guild is None or not isinstance(user, discord.Member):
        raise BotError("Spoken answers work in a server's voice channels, not in DMs.")
    return voice.player(guild.id) or await voice.join(user)
