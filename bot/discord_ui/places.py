"""Where a Discord conversation happens, as the domain's Place."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain import Place


def place_of(channel: Any, guild: discord.Guild | None) -> Place:
    """A thread is a place of its own (its own memory) that inherits its channel's persona, model and switches."""
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Place(guild_id=guild.id if guild else None, channel_id=channel.id, parent_id=parent)
