"""Scripted backends: they implement the real Backend protocol and answer predictably, for service tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Literal

from bot.domain import ChatMessage, GenerationParams


class ScriptedBackend:
    """Streams `text` in word-sized pieces, `delay` seconds apart; records every request it gets."""

    def __init__(
        self,
        name: str = "scripted",
        text: str = "Hello there, friend.",
        delay: float = 0.0,
        window: int = 4096,
        kind: Literal["api", "local"] = "api",
    ) -> None:
        self.name, self.text, self.delay, self.window, self.kind = name, text, delay, window, kind
        self.calls: list[tuple[list[ChatMessage], GenerationParams]] = []
        self.defaults = GenerationParams(temperature=0.5)
        self.cancelled = 0

    def pieces(self, messages: Sequence[ChatMessage]) -> list[str]:
        words = self.text.split(" ")
        return [words[0]] + [" " + w for w in words[1:]]

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        self.calls.append((list(messages), params))
        try:
            for piece in self.pieces(messages):
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield piece
        except (asyncio.CancelledError, GeneratorExit):
            self.cancelled += 1
            raise

    async def sampling_defaults(self) -> GenerationParams:
        return self.defaults

    def needs_loading(self) -> bool:
        return False

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    async def context_window(self) -> int:
        return self.window


class EchoBackend(ScriptedBackend):
    """Answers with the JSON of the messages it received, so a test can see what reached the model."""

    def __init__(self, name: str = "echo", **kwargs: object) -> None:
        super().__init__(name=name, **kwargs)  # type: ignore[arg-type]

    def pieces(self, messages: Sequence[ChatMessage]) -> list[str]:
        encoded = json.dumps(list(messages))
        return [encoded[i : i + 20] for i in range(0, len(encoded), 20)]
