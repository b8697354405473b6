"""Where a Discord conversation happens, as the domain's Place; and whether the bot itself is there."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain import Place


def place_of(channel: Any, guild: discord.Guild | None) -> Place:
    """A thread is a place of its own (its own memory) that inherits its channel's persona, model and switches."""
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Place(guild_id=guild.id if guild else None, channel_id=channel.id, parent_id=parent)


def bot_is_there(interaction: discord.Interaction) -> bool:
    """Whether the bot itself is in the interaction's server or DM, rather than reached through a user install only.

    A user-installed app can be used in servers that never invited the bot and in other people's DMs and group
    chats: there it hears nothing but the interaction (no gateway events, no channel to read or write, at most five
    follow-ups). discord.py builds a stand-in guild for such servers, so `interaction.guild` is set there too; the
    client's own guild cache says whether the bot is a member.
    """
    if interaction.guild_id is None:
        return not interaction.context.private_channel  # the DM with the bot, not someone else's DM or group chat
    return interaction.is_guild_integration() or interaction.client.get_guild(interaction.guild_id) is not None


def interaction_place(interaction: discord.Interaction) -> Place:
    """Where an interaction's question belongs. Away from the bot (a user install), each person's questions form one
    conversation of their own: a channel's memory there would mix people whose answers only they can see."""
    if not bot_is_there(interaction):
        return Place(guild_id=None, channel_id=interaction.user.id)  # snowflakes are unique across kinds
    assert interaction.channel is not None
    return place_of(interaction.channel, interaction.guild)


def answers_privately(interaction: discord.Interaction) -> bool:
    """A user install in a server that does not let members use external apps: Discord shows its answers only to the
    asker, so the bot says so up front (and its follow-ups are private too)."""
    if bot_is_there(interaction) or interaction.guild_id is None:
        return False
    return not interaction.permissions.use_external_apps
