"""What the answer pipeline is asked: one frozen value, built once by the surface the question came from."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.domain import Asker, Extras, Overrides, Place

Path = Literal["ask", "mention", "dm", "chat", "regenerate", "continue", "terminal", "voice"]
RedoPath = Literal["regenerate", "continue"]
Gather = Callable[[], Awaitable[Extras]]  # reads a question's reply chain and attachments, once acknowledged


@dataclass(frozen=True, slots=True)
class Redo:
    """The stored answer a Regenerate or Continue works on."""

    answer_turn_id: int


@dataclass(frozen=True, slots=True)
class Question:
    place: Place
    asker: Asker
    text: str = ""
    path: Path = "ask"
    speak: bool = False  # the asker asked for speech (a place can also ask for it)
    overrides: Overrides = field(default_factory=Overrides)
    redo: Redo | None = None
    names: Mapping[int, str] = field(default_factory=dict)  # display names of mentioned people, for speech
    gather: Gather | None = None
    received_at: float = field(default_factory=time.monotonic)  # when the question reached the bot

    def again(self, path: RedoPath, answer_turn_id: int) -> Question:
        """The same asker's request to redo the answer stored as `answer_turn_id`."""
        return Question(
            place=self.place,
            asker=self.asker,
            path=path,
            speak=self.speak,
            redo=Redo(answer_turn_id),
            names=self.names,
        )
