"""/model show | list | set — which model answers here. Switching is for server admins."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.permissions import require_server_admin
from bot.discord_ui.places import place_of
from bot.domain import Scope

SCOPES = [
    app_commands.Choice(name="this channel", value="channel"),
    app_commands.Choice(name="whole server", value="guild"),
]
SOURCES = {
    "channel": "set for this channel",
    "guild": "set for this server",
    "global": "bot-wide setting",
    "default": "the bot's default",
}


class ModelCog(commands.GroupCog, group_name="model", group_description="Which model answers here"):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show the model in force here and where that choice comes from."""
        assert interaction.channel is not None
        name, source = await self.bot.services.places.model_in_force(place_of(interaction.channel, interaction.guild))
        entry = self.bot.services.registry.entry(name)
        await interaction.response.send_message(f"Model here: **{entry.label}** — {SOURCES[source]}.", ephemeral=True)

    @app_commands.command(name="list")
    async def list_models(self, interaction: discord.Interaction) -> None:
        """List the models this bot can use."""
        registry = self.bot.services.registry
        lines = [f"- `{e.name}` — {e.where}" for e in registry.entries()]
        await interaction.response.send_message("Available models:\n" + "\n".join(lines), ephemeral=True)

    @app_commands.command(name="set")
    @app_commands.describe(name="Model name (start typing to search)", scope="Where it applies (default: channel)")
    @app_commands.choices(scope=SCOPES)
    async def set_model(
        self, interaction: discord.Interaction, name: str, scope: app_commands.Choice[str] | None = None
    ) -> None:
        """Switch the model for this channel or the whole server (admins only)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)  # checked here, not only by Discord
        entry = self.bot.services.registry.entry(name)
        where: Scope = "guild" if scope and scope.value == "guild" else "channel"
        assert interaction.channel is not None
        place = place_of(interaction.channel, interaction.guild)
        if self.bot.services.registry.needs_loading(entry.name):
            await interaction.response.send_message(f"Loading `{entry.name}`… this can take a minute.", ephemeral=True)
            await self.bot.services.places.set_model(place, where, entry.name, interaction.user.id)
            await interaction.edit_original_response(content=f"Now using **{entry.label}** {_scope_text(where)}.")
            return
        await self.bot.services.places.set_model(place, where, entry.name, interaction.user.id)
        await interaction.response.send_message(f"Now using **{entry.label}** {_scope_text(where)}.", ephemeral=True)

    @set_model.autocomplete("name")
    async def model_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=e.label[:100], value=e.name) for e in self.bot.services.registry.suggest(current)
        ]


def _scope_text(scope: Scope) -> str:
    return "in this channel" if scope == "channel" else "across this server"


async def setup(bot: HFBot) -> None:
    await bot.add_cog(ModelCog(bot))
