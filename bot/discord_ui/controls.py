"""The buttons under an answer: Stop while it streams; Regenerate (and Continue) once it is done.

A set of buttons lives on one message at a time (the answer's last), in either layout: a classic view, or the
action row at the bottom of a Components V2 layout whose text displays it rebuilds on each write. One view per
set and layout, so its buttons keep their ids while the text around them changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

log = logging.getLogger(__name__)

CONTROLS_TIMEOUT = 15 * 60  # interaction tokens expire after 15 minutes anyway
NOT_YOURS = "Only the person who asked, or an admin, can use these buttons."

Allowed = Callable[[discord.abc.User], bool]
Action = Callable[[discord.Interaction], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    emoji: str
    style: discord.ButtonStyle
    action: Action


class _Checked:
    _allowed: Allowed

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self._allowed(interaction.user):
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False


class _ClassicView(_Checked, discord.ui.View):
    def __init__(self, allowed: Allowed) -> None:
        super().__init__(timeout=CONTROLS_TIMEOUT)
        self._allowed = allowed


class _Layout(_Checked, discord.ui.LayoutView):
    def __init__(self, allowed: Allowed) -> None:
        super().__init__(timeout=CONTROLS_TIMEOUT)
        self._allowed = allowed


class AnswerButtons:
    """One set of buttons, for whoever `allowed` lets press them."""

    def __init__(self, allowed: Allowed, specs: list[ButtonSpec]) -> None:
        self._allowed, self._specs = allowed, specs
        self._classic: _ClassicView | None = None
        self._layout: _Layout | None = None
        self._row: discord.ui.ActionRow[_Layout] | None = None

    def labels(self) -> list[str]:
        return [spec.label for spec in self._specs]

    def classic(self) -> discord.ui.View:
        if self._classic is None:
            self._classic = _ClassicView(self._allowed)
            for button in self._buttons():
                self._classic.add_item(button)
        return self._classic

    def layout(self, texts: list[discord.ui.TextDisplay[discord.ui.LayoutView]]) -> discord.ui.LayoutView:
        """The Components V2 layout: `texts`, then this set's action row."""
        if self._layout is None:
            self._layout = _Layout(self._allowed)
            self._row = discord.ui.ActionRow(*self._buttons())
        assert self._row is not None
        self._layout.clear_items()
        for text in texts:
            self._layout.add_item(text)
        self._layout.add_item(self._row)
        return self._layout

    def retire(self) -> None:
        """The buttons stop listening (the answer is over, or one of them was used)."""
        for view in (self._classic, self._layout):
            if view is not None:
                view.stop()

    def _buttons(self) -> list[discord.ui.Button[Any]]:
        made = []
        for spec in self._specs:
            button: discord.ui.Button[Any] = discord.ui.Button(label=spec.label, emoji=spec.emoji, style=spec.style)
            button.callback = spec.action  # type: ignore[method-assign,assignment]
            made.append(button)
        return made


def stop_buttons(allowed: Allowed, on_stop: Callable[[], None]) -> AnswerButtons:
    async def stop(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        log.info("Answer stopped by %s", interaction.user.id)
        on_stop()

    return AnswerButtons(allowed, [ButtonSpec("Stop", "⏹️", discord.ButtonStyle.danger, stop)])


def finished_buttons(allowed: Allowed, on_regenerate: Action, on_continue: Action | None = None) -> AnswerButtons:
    """Under a finished answer: Regenerate, and Continue when the length limit cut it. One use per answer."""
    buttons: AnswerButtons

    def once(action: Action) -> Action:
        async def act(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            buttons.retire()  # one follow-up action per answer; the new answer brings its own buttons
            await action(interaction)

        return act

    specs = [ButtonSpec("Regenerate", "🔄", discord.ButtonStyle.secondary, once(on_regenerate))]
    if on_continue is not None:
        specs.insert(0, ButtonSpec("Continue", "⏩", discord.ButtonStyle.primary, once(on_continue)))
    buttons = AnswerButtons(allowed, specs)
    return buttons
