"""The buttons under an answer: Stop while it streams; Regenerate (and Continue) once it is done."""

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


class FinishedControls(_Controls):
    """Under a finished answer: Regenerate, and Continue when the length limit cut it."""

    def __init__(self, allowed: Allowed, on_regenerate: Action, on_continue: Action | None = None) -> None:
        super().__init__(allowed)
        self._on_regenerate, self._on_continue = on_regenerate, on_continue
        if on_continue is None:
            self.remove_item(self.continue_button)

    @discord.ui.button(label="Continue", style=discord.ButtonStyle.primary, emoji="⏩")
    async def continue_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[FinishedControls]
    ) -> None:
        assert self._on_continue is not None
        await self._act(interaction, self._on_continue)

    @discord.ui.button(label="Regenerate", style=discord.ButtonStyle.secondary, emoji="🔄")
    async def regenerate_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[FinishedControls]
    ) -> None:
        await self._act(interaction, self._on_regenerate)

    async def _act(self, interaction: discord.Interaction, action: Action) -> None:
        await interaction.response.defer()
        self.stop()  # one follow-up action per answer; the new answer brings its own buttons
        await action(interaction)
