"""Where a Discord conversation happens, as the domain's Place."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain import Place


def place_of(channel: Any, guild: discord.Guild | None) -> Place:
    return Place(guild_id=guild.id if guild else None, channel_id=channel.id)
