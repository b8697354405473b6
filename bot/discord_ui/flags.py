"""On/off switches of a channel (persona conversation, spoken answers), shared by the cogs that set them."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord_ui.permissions import require_channel_manager
from bot.discord_ui.places import place_of
from bot.services.settings import PlaceSettingsService

ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


async def switch_channel_flag(
    places: PlaceSettingsService, interaction: discord.Interaction, flag: str, mode: app_commands.Choice[str]
) -> bool:
    """Set `flag` for the interaction's channel (Manage Channels); returns the new value."""
    require_channel_manager(interaction)
    assert interaction.channel is not None
    on = mode.value == "on"
    await places.set_flag(place_of(interaction.channel, interaction.guild), "channel", flag, on, interaction.user.id)
    return on
