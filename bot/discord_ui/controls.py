"""The Stop and Regenerate buttons under an answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

log = logging.getLogger(__name__)

CONTROLS_TIMEOUT = 15 * 60  # interaction tokens expire after 15 minutes anyway

Allowed = Callable[[discord.abc.User], bool]
Action = Callable[[discord.Interaction], Awaitable[None]]


class _Controls(discord.ui.View):
    def __init__(self, allowed: Allowed) -> None:
        super().__init__(timeout=CONTROLS_TIMEOUT)
        self._allowed = allowed

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self._allowed(interaction.user):
            return True
        await interaction.response.send_message(
            "Only the person who asked, or an admin, can use these buttons.", ephemeral=True
        )
        return False


class StopControls(_Controls):
    def __init__(self, allowed: Allowed, on_stop: Callable[[], None]) -> None:
        super().__init__(allowed)
        self._on_stop = on_stop

    @discord.ui.button(label="Stop", style=discord.ButtonStyle.danger, emoji="⏹️")
    async def stop_button(self, interaction: discord.Interaction, _button: discord.ui.Button[StopControls]) -> None:
        await interaction.response.defer()
        log.info("Answer stopped by %s", interaction.user.id)
        self._on_stop()


class RegenerateControls(_Controls):
    def __init__(self, allowed: Allowed, on_regenerate: Action) -> None:
        super().__init__(allowed)
        self._on_regenerate = on_regenerate

    @discord.ui.button(label="Regenerate", style=discord.ButtonStyle.secondary, emoji="🔄")
    async def regenerate_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[RegenerateControls]
    ) -> None:
        await interaction.response.defer()
        self.stop()  # one regeneration per answer; the new answer brings its own buttons
        await self._on_regenerate(interaction)
