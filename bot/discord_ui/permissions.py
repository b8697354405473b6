"""Runtime permission checks. Discord's default_member_permissions only hides commands; these decide."""

from __future__ import annotations

import discord

from bot.errors import PermissionDeniedError


def is_server_admin(user: discord.abc.User, admin_ids: list[int]) -> bool:
    """Manage Server in this guild, and on the allowlist when one is configured."""
    if admin_ids and user.id not in admin_ids:
        return False
    return isinstance(user, discord.Member) and user.guild_permissions.manage_guild


def can_manage_channel(user: discord.abc.User, channel: object) -> bool:
    if not isinstance(user, discord.Member):
        return True  # a DM: the user's own conversation
    if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return channel.permissions_for(user).manage_channels
    return user.guild_permissions.manage_channels


def require_server_admin(interaction: discord.Interaction, admin_ids: list[int]) -> None:
    if interaction.guild is None:
        raise PermissionDeniedError("This only works inside a server.")
    if not is_server_admin(interaction.user, admin_ids):
        raise PermissionDeniedError("Only server admins (Manage Server) can do that.")


def require_channel_manager(interaction: discord.Interaction) -> None:
    if not can_manage_channel(interaction.user, interaction.channel):
        raise PermissionDeniedError("You need the Manage Channels permission here to do that.")
