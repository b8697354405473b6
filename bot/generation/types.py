"""The backend protocol every generator implements, and the message check they share."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Literal, Protocol

from bot.domain import ChatMessage, GenerationParams, StreamEnd, Thought
from bot.errors import InvalidInputError

Kind = Literal["api", "local"]


class Backend(Protocol):
    """What every generator backend offers: text deltas through one async iterator."""

    name: str

    @property
    def kind(self) -> Kind: ...

    def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncGenerator[str | Thought | StreamEnd]:
        """Yield text pieces as they are generated (and `Thought`s for a reasoning model's reasoning), then one
        `StreamEnd`; closing the iterator stops generation."""
        ...

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes (exact for local models, an estimate for API models)."""
        ...

    async def context_window(self) -> int: ...

    async def sampling_defaults(self) -> GenerationParams:
        """The sampling this model answers best with when a persona states none."""
        ...

    def needs_loading(self) -> bool:
        """Whether the first answer would have to wait for the model to load."""
        ...


def validate_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Reject what no model can answer, with a sentence the user can act on."""
    if not messages:
        raise InvalidInputError("There is nothing to answer: the message list is empty.")
    cleaned: list[ChatMessage] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant"):
            raise InvalidInputError(f"A message has the unknown role {role!r}; use system, user or assistant.")
        if not isinstance(content, str) or not content.strip():
            raise InvalidInputError("A message has no text. Write something for the model to answer.")
        cleaned.append(ChatMessage(role=role, content=content))
    if all(m["role"] == "system" for m in cleaned):
        raise InvalidInputError("There is only a system prompt; add a user message to answer.")
    return cleaned
