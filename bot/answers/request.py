"""What the answer pipeline is asked to do, and the surface it answers on.

A surface hides where a question came from: a slash command, a message (mention, DM, chat), a button under an
earlier answer, or the terminal. The pipeline calls it to acknowledge, to refuse privately, to show the answer and
to add private remarks; it never needs to know which one it has.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.domain import Extras, Place
from bot.streaming.pacing import Lane, PacerRegistry
from bot.streaming.renderer import MessageSink, Outcome
from bot.voice.player import GuildPlayer

Path = Literal["ask", "mention", "dm", "chat", "regenerate", "continue", "terminal"]


@dataclass(frozen=True, slots=True)
class Redo:
    """An earlier answer to regenerate or continue, and where it is shown."""

    answer_turn_id: int
    messages: list[Any]
    sink: MessageSink


@dataclass(slots=True)
class AnswerRequest:
    place: Place
    asker_id: int
    asker_name: str
    text: str = ""
    path: Path = "ask"
    speak: bool = False  # the asker asked for speech (a place can also ask for it)
    persona: str | None = None
    model: str | None = None
    system: str | None = None  # replaces the persona's system prompt for this answer (the terminal's --system)
    redo: Redo | None = None
    names: dict[int, str] = field(default_factory=dict)  # display names of mentioned people, for speech
    received_at: float = field(default_factory=time.monotonic)  # when the question reached the bot
    gather: Callable[[], Awaitable[Extras]] | None = None  # reads its reply chain and attachments, once acknowledged
    extras: Extras | None = None  # what `gather` found


class Surface(Protocol):
    def lane(self, pacers: PacerRegistry, channel_id: int) -> Lane:
        """Which pacing lane the answer's messages are written through."""

    async def acknowledge(self, queued: bool) -> None:
        """Show at once that the question was taken (and, when `queued`, that it waits for its turn)."""

    async def refuse(self, message: str) -> None:
        """Tell only the asker why there is no answer; leave nothing public behind."""

    async def note(self, message: str) -> None:
        """A private remark after the answer (e.g. why it could not be spoken)."""

    def sink(self) -> MessageSink:
        """Where the answer's messages go."""

    async def player(self) -> GuildPlayer:
        """The voice player for spoken answers; raises BotError saying why there is none."""

    async def finished(self, outcome: Outcome) -> None:
        """Tidy up after the answer (e.g. delete messages a shorter regenerated answer no longer needs)."""
