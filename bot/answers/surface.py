"""The surface an answer is shown on, as the pipeline sees it.

A surface hides where a question came from: a slash command, a message (mention, DM, chat), a button under an
earlier answer, the terminal, a voice channel. The pipeline calls it to acknowledge, to refuse privately, to show
the answer and to add private remarks. It also asks the surface for the answer's controls: buttons and who may press
them are the surface's business, and the pipeline only says what they can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.answers.question import Question, RedoPath
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.renderer import MessageSink, Outcome
from bot.voice.player import GuildPlayer


class AnswerActions(Protocol):
    """What an answer's controls can do."""

    def stop(self) -> None:
        """Stop generating; what was written stays, marked as stopped."""

    def shown(self) -> list[Any]:
        """The answer's messages as they stand (handles from the surface's sink)."""

    async def redo(self, path: RedoPath, surface: Surface) -> None:
        """Answer again (or continue a cut answer) on `surface`, the one the button was pressed on."""


@dataclass(frozen=True, slots=True)
class Controls:
    streaming: Any | None = None  # shown while the answer is written (Stop)
    finished: Callable[[bool], Any | None] = lambda can_continue: None  # Regenerate, and Continue when it was cut
    retire: Callable[[], None] = lambda: None  # the answer is over: its streaming controls stop listening


NO_CONTROLS = Controls()


class Surface(Protocol):
    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        """Which pacing lane the answer's messages are written through."""

    async def acknowledge(self, queued: bool) -> None:
        """Show at once that the question was taken; `queued` says it will wait behind others (so a slash command's
        response is deferred privately). Only this runs before the burst's other acknowledgements are out."""

    async def waiting(self) -> None:
        """Tell the asker the question waits for its turn behind others (after the acknowledgement)."""

    async def refuse(self, message: str) -> None:
        """Tell only the asker why there is no answer; leave nothing public behind."""

    async def note(self, message: str) -> None:
        """A private remark after the answer (e.g. why it could not be spoken)."""

    def sink(self) -> MessageSink:
        """Where the answer's messages go."""

    def controls(self, question: Question, actions: AnswerActions) -> Controls:
        """The buttons shown with the answer, with their own permission checks."""

    async def player(self) -> GuildPlayer:
        """The voice player for spoken answers; raises BotError saying why there is none."""

    async def finished(self, outcome: Outcome) -> None:
        """Tidy up after the answer (e.g. delete messages a shorter regenerated answer no longer needs)."""
