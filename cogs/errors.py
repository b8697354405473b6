"""The one error handler for application commands: user errors become short ephemeral messages."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers.service import GENERIC
from bot.discord_bot import HFBot
from bot.discord_ui.surfaces import tell_privately
from bot.errors import BotError

log = logging.getLogger(__name__)


def user_message(error: app_commands.AppCommandError) -> str | None:
    """The sentence for the user, or None when this is a bug to log."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, BotError):
        return original.user_message
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {', '.join(p.replace('_', ' ').title() for p in error.missing_permissions)} permission."
    if isinstance(error, app_commands.BotMissingPermissions):
        return "I'm missing permissions here: " + ", ".join(error.missing_permissions).replace("_", " ") + "."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(original, discord.Forbidden):
        return "Discord didn't let me do that here (missing permissions)."
    return None


class ErrorHandler(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        message = user_message(error)
        if message is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("Unexpected error in /%s", command, exc_info=error)
            message = GENERIC
        await tell_privately(interaction, message)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(ErrorHandler(bot))
