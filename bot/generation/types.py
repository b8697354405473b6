"""Plain data passed between the services and the backends."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypedDict

from bot.errors import InvalidInputError

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


class Backend(Protocol):
    """What every generator backend offers: text deltas through one async iterator."""

    name: str

    @property
    def kind(self) -> Literal["api", "local"]: ...

    def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        """Yield text pieces as they are generated; closing the iterator stops generation."""
        ...

    async def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the messages take in the prompt (exact for local models, an estimate for API models)."""
        ...

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes on its own (same exactness as `count_tokens`)."""
        ...

    async def context_window(self) -> int: ...


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
