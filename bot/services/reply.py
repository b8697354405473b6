"""One answer being generated: its stream (reasoning split off, echoed names dropped) and how it ended.

The conversation service makes a `Reply` and stores its outcome: `finish` is called however the stream ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Protocol

from bot.domain import AnswerStatus, GenerationParams, Persona, Place, StreamEnd, Thought
from bot.errors import GenerationInterrupted
from bot.generation.reasoning import ThinkSplitter
from bot.generation.types import Backend
from bot.services.context import Context
from bot.services.echo import EchoGuard

log = logging.getLogger(__name__)


class Finisher(Protocol):
    async def finish(self, reply: Reply) -> None: ...


class Reply:
    """One answer being generated. Iterate `stream()`; afterwards `status`, `text` and `end` say how it ended."""

    def __init__(
        self,
        service: Finisher,
        place: Place,
        persona: Persona,
        model: str,
        backend: Backend,
        context: Context,
        params: GenerationParams,
    ) -> None:
        self._service, self.place, self.persona, self.model = service, place, persona, model
        self.backend, self.context, self.params = backend, context, params
        self.status = AnswerStatus.STREAMING
        self.prefix = ""  # text already shown before this generation (Continue)
        self.text = ""
        self.reasoning = ""  # a reasoning model's thinking: shown only on request, never stored
        self.end: StreamEnd | None = None
        self.answer_turn_id = 0  # the answer's stored row, recorded before it streams
        self.replaces_turn_id: int | None = None  # set when this answer regenerates an earlier one
        self.speak = False  # the place asks for answers to be spoken
        self.asker_id: int | None = None  # whose tokens these are (the asker, or who pressed Regenerate)
        self.first_token_at: float | None = None
        self.completion_tokens = 0  # counted when the answer is stored
        self.notes: list[str] = []  # said under the answer (a file that could not be read…)
        self._answered = False

    @property
    def left_out(self) -> int:
        return self.context.left_out

    @property
    def thinking(self) -> bool:
        """A reasoning model is reasoning and has not started its answer yet."""
        return bool(self.reasoning) and self.status == AnswerStatus.STREAMING and not self._answered

    async def stream(self) -> AsyncGenerator[str, None]:
        """The new text, piece by piece; the outcome is stored however the stream ends."""
        parts: list[str] = []
        guard = EchoGuard([*self.context.speaker_names, self.persona.name])
        thinking = ThinkSplitter()
        try:
            async with aclosing(self.backend.stream(self.context.messages, self.params)) as pieces:
                async for item in pieces:
                    if self.first_token_at is None:
                        self.first_token_at = time.monotonic()
                    if isinstance(item, StreamEnd):
                        self.end = item
                        continue
                    for part in [item] if isinstance(item, Thought) else thinking.feed(item):
                        if isinstance(part, Thought):
                            self.reasoning += part.text  # shown only on request, never stored
                            continue
                        for piece in guard.feed(part, first=not self.prefix):
                            parts.append(piece)
                            self._answered = True
                            yield piece
            for part in thinking.flush():
                if isinstance(part, Thought):
                    self.reasoning += part.text
                else:
                    for piece in guard.feed(part, first=not self.prefix):
                        parts.append(piece)
                        yield piece
            for piece in guard.flush():
                parts.append(piece)
                yield piece
            truncated = self.end is not None and self.end.finish_reason == "length"
            self.status = AnswerStatus.TRUNCATED if truncated else AnswerStatus.COMPLETE
            if truncated:
                log.info("Answer in channel %s cut at %d tokens", self.place.channel_id, self.params.max_tokens)
        except GenerationInterrupted as exc:
            parts = [exc.partial_text]
            self.status = AnswerStatus.FAILED
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self.status = AnswerStatus.INTERRUPTED
            raise
        except BaseException:
            self.status = AnswerStatus.FAILED
            raise
        finally:
            self.text = self.prefix + "".join(parts)
            await asyncio.shield(self._service.finish(self))
