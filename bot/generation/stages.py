"""The stages every answer's stream passes through, in one chain: the backend's items in, the answer's text out.

backend items (text, `Thought`, `StreamEnd`) → reasoning split off (`<think>` blocks) → echoed chat framing dropped
→ text. What the stages learn on the way (the reasoning, how the stream ended, when its first item came) is kept
in a `StreamState` for whoever reads the answer afterwards. The bot's answers and the seed API use the same chain,
so a seed caller never sees a `<think>` block or an echoed `assistant:` either.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from bot.domain import StreamEnd, Thought
from bot.generation.echo import EchoGuard
from bot.generation.reasoning import ThinkSplitter
from bot.tools.types import ToolCalls

StreamItem = str | Thought | StreamEnd | ToolCalls  # tool calls are the tool stage's; any that reach here are dropped


@dataclass
class StreamState:
    reasoning: str = ""  # a reasoning model's thinking: shown only on request, never stored
    end: StreamEnd | None = None
    first_item_at: float | None = None
    answered: bool = False  # some answer text has come through

    @property
    def cut_by_length(self) -> bool:
        return self.end is not None and self.end.finish_reason == "length"


async def answer_text(
    items: AsyncIterator[StreamItem], state: StreamState, names: Sequence[str] = (), continuing: bool = False
) -> AsyncGenerator[str, None]:
    """The answer's text pieces. `names` are the speakers whose `Name:` a model may echo at the start of its answer;
    `continuing` says the text goes on from an earlier answer (Continue), whose start was already checked."""
    guard = EchoGuard(list(names))
    thinking = ThinkSplitter()

    def shown(parts: list[str | Thought]) -> list[str]:
        out: list[str] = []
        for part in parts:
            if isinstance(part, Thought):
                state.reasoning += part.text
                continue
            out.extend(guard.feed(part, first=not continuing))
        return out

    async with aclosing(_items(items)) as pieces:
        async for item in pieces:
            if state.first_item_at is None:
                state.first_item_at = time.monotonic()
            if isinstance(item, StreamEnd):
                state.end = item
                continue
            if isinstance(item, ToolCalls):
                continue
            for piece in shown([item] if isinstance(item, Thought) else thinking.feed(item)):
                state.answered = True
                yield piece
    for piece in [*shown(thinking.flush()), *guard.flush()]:
        state.answered = True
        yield piece


async def _items(items: AsyncIterator[StreamItem]) -> AsyncGenerator[StreamItem, None]:
    """The backend's stream, closed as soon as the answer is left (Stop, shutdown, a failure downstream)."""
    try:
        async for item in items:
            yield item
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
