"""/usage (everyone; admins see the server too), /quota (admins), /status (admins)."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import HFBot
from bot.discord_ui.permissions import is_server_admin, require_server_admin
from bot.services.usage import Spent


def _spent(label: str, spent: Spent, quota: int = 0) -> str:
    of = f" of {quota:,} a day" if quota else ""
    return (
        f"**{label}:** {spent.tokens:,} tokens{of} in {spent.answers:,} answers "
        f"({spent.prompt_tokens:,} in, {spent.completion_tokens:,} out)"
    )


class OperationsCog(commands.Cog):
    def __init__(self, bot: HFBot) -> None:
        self.bot = bot

    @app_commands.command(name="usage")
    async def usage(self, interaction: discord.Interaction) -> None:
        """Tokens your questions used today and this month (admins also see the server's)."""
        guild_id = interaction.guild_id
        admin = guild_id is not None and is_server_admin(interaction.user, self.bot.settings.admin_user_ids)
        report = await self.bot.services.usage.report(interaction.user.id, guild_id, admin)
        lines = [_spent("You today", report.today, report.member_quota), _spent("You this month", report.month)]
        if report.server_today is not None:
            lines.append(_spent("This server today", report.server_today, report.server_quota))
        if report.top_users:
            lines.append("**Top users this month:** " + ", ".join(f"<@{u}> {t:,}" for u, t in report.top_users))
        if report.top_models:
            lines.append("**Models this month:** " + ", ".join(f"`{m}` {t:,}" for m, t in report.top_models))
        lines.append("-# Days are UTC days; quotas reset at 00:00 UTC.")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="quota")
    @app_commands.guild_only()
    @app_commands.describe(
        scope="Each member's daily tokens, or the whole server's", tokens="Tokens per UTC day; 0 turns the quota off"
    )
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="each member", value="member"),
            app_commands.Choice(name="server", value="server"),
        ]
    )
    async def quota(
        self, interaction: discord.Interaction, scope: str, tokens: app_commands.Range[int, 0, 1_000_000_000]
    ) -> None:
        """Set a daily token quota here (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        assert interaction.guild is not None
        await self.bot.services.usage.set_quota(interaction.guild.id, scope, tokens, interaction.user.id)
        who = "each member" if scope == "member" else "this server"
        said = f"{tokens:,} tokens a day for {who}" if tokens else f"no daily quota for {who}"
        await interaction.response.send_message(f"Quota set: {said}. Days reset at 00:00 UTC.", ephemeral=True)

    @app_commands.command(name="status")
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction) -> None:
        """How the bot is doing: uptime, latency, models, answers, database, voice (admins)."""
        require_server_admin(interaction, self.bot.settings.admin_user_ids)
        bot, registry, answers = self.bot, self.bot.services.registry, self.bot.services.answers
        uptime = int(time.monotonic() - bot.started_at)
        hours, rest = divmod(uptime, 3600)
        loaded = {e.name for e in registry.entries() if e.kind == "local" and not registry.needs_loading(e.name)}
        models = ", ".join(
            f"`{e.name}` ({e.where}{', loaded' if e.name in loaded else ''})" for e in registry.entries()
        )
        voice = len(bot.voice_clients)
        lines = [
            f"**Up** {hours} h {rest // 60:02d} min · **gateway latency** {bot.latency * 1000:.0f} ms",
            f"**Models:** {models} · default `{registry.default_model}`",
            f"**Answers:** {answers.running()} running, {answers.gate.waiting()} waiting · "
            f"**last minute:** {answers.tokens_per_second():.1f} tokens/s",
            f"**Database:** {bot.settings.database_backend()} · **voice connections:** {voice}",
        ]
        await interaction.response.send_message("\n".join(lines), ephemeral=True)


async def setup(bot: HFBot) -> None:
    await bot.add_cog(OperationsCog(bot))
