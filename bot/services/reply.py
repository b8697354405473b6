"""One answer being generated: what it was given (persona, model, context) and what it produced.

`stream()` yields the answer's text through the generation stages (reasoning split off, echoed names dropped). The
reply does not decide how the answer ended or store it: the answer pipeline does both, once rendering is over, from
what the reply saw (its text, how the stream ended) and what the reader saw.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from bot.domain import AnswerStatus, GenerationParams, Persona, Place
from bot.errors import GenerationInterrupted
from bot.generation.stages import StreamItem, StreamState, answer_text
from bot.generation.types import Backend
from bot.services.context import Context
from bot.tools.stage import ToolRun

log = logging.getLogger(__name__)


class Reply:
    """One answer being generated. Iterate `stream()`; afterwards `text`, `state` and `error` say what it produced."""

    def __init__(
        self,
        place: Place,
        persona: Persona,
        model: str,
        backend: Backend,
        context: Context,
        params: GenerationParams,
        answer_turn_id: int,
    ) -> None:
        self.place, self.persona, self.model = place, persona, model
        self.backend, self.context, self.params = backend, context, params
        self.answer_turn_id = answer_turn_id  # the answer's stored row, recorded before it streams
        self.prefix = ""  # text already shown before this generation (Continue)
        self.text = ""  # prefix + what this generation added, kept current while it streams
        self.state = StreamState()
        self.done = False
        self.replaces_turn_id: int | None = None  # set when this answer regenerates an earlier one
        self.speak = False  # the place asks for answers to be spoken
        self.asker_id: int | None = None  # whose tokens these are (the asker, or who pressed Regenerate)
        self.completion_tokens = 0  # counted when the answer is stored
        self.notes: list[str] = []  # said under the answer (a file that could not be read…)
        self.tools: ToolRun | None = None  # the tools offered, when the model takes tools and some are on here

    @property
    def left_out(self) -> int:
        return self.context.left_out

    @property
    def reasoning(self) -> str:
        return self.state.reasoning

    @property
    def thinking(self) -> bool:
        """A reasoning model is reasoning and has not started its answer yet."""
        return bool(self.state.reasoning) and not self.done and not self.state.answered

    @property
    def tool_status(self) -> str | None:
        """The status line of a tool running now (`-# 🔧 Searching this channel…`), else None."""
        return self.tools.status if self.tools is not None else None

    def _generation(self) -> AsyncIterator[StreamItem]:
        """The backend's items, through the tool stage when tools are offered (it consumes the tool calls)."""
        if self.tools is None:
            return self.backend.stream(self.context.messages, self.params)
        return self.tools.stream(self.backend, self.context.messages, self.params)

    async def stream(self) -> AsyncGenerator[str, None]:
        """The new text, piece by piece. A failure after some text keeps that text (`GenerationInterrupted`)."""
        self.text = self.prefix
        names = [*self.context.speaker_names, self.persona.name]
        items = self._generation()
        try:
            async with aclosing(answer_text(items, self.state, names, continuing=bool(self.prefix))) as pieces:
                async for piece in pieces:
                    self.text += piece
                    yield piece
            if self.state.cut_by_length:
                log.info("Answer in channel %s cut at %d tokens", self.place.channel_id, self.params.max_tokens)
        except GenerationInterrupted as exc:
            self.text = self.prefix + exc.partial_text
            raise
        finally:
            self.done = True


def settle(reply: Reply, shown: AnswerStatus) -> AnswerStatus:
    """How an answer ended, decided in this one place from what the reader saw (`shown`: complete, stopped or
    failed, as the surface rendered it) and what the model said: a complete answer the length limit cut is truncated.
    """
    if shown == AnswerStatus.COMPLETE and reply.state.cut_by_length:
        return AnswerStatus.TRUNCATED
    if shown in (AnswerStatus.COMPLETE, AnswerStatus.INTERRUPTED, AnswerStatus.FAILED):
        return shown
    return AnswerStatus.INTERRUPTED  # still streaming when the answer was left: its task was cancelled
