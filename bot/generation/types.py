"""The backend protocol every generator implements, and the message check they share."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from bot.domain import ChatMessage, GenerationParams, StreamEnd, Thought
from bot.errors import InvalidInputError
from bot.tools.types import ToolCalls

Kind = Literal["api", "local"]


class Backend(Protocol):
    """What every generator backend offers: text deltas through one async iterator."""

    name: str

    @property
    def kind(self) -> Kind: ...

    def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncGenerator[str | Thought | StreamEnd | ToolCalls]:
        """Yield text pieces as they are generated (and `Thought`s for a reasoning model's reasoning), then one
        `StreamEnd`; closing the iterator stops generation. (`ToolCalls` come only from a `ToolCapable` backend
        asked with tools.)"""
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


@runtime_checkable
class ToolCapable(Protocol):
    """A backend that can offer a model tools. Whether this model takes them is its own to say (an API model by
    configuration, a local model by its chat template)."""

    async def tool_support(self) -> bool: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> AsyncGenerator[str | Thought | StreamEnd | ToolCalls]:
        """As `Backend.stream`; with `tools`, a turn that calls tools ends with one `ToolCalls` before `StreamEnd`."""
        ...


def validate_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Reject what no model can answer, with a sentence the user can act on."""
    if not messages:
        raise InvalidInputError("There is nothing to answer: the message list is empty.")
    cleaned: list[ChatMessage] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant", "tool"):
            raise InvalidInputError(f"A message has the unknown role {role!r}; use system, user or assistant.")
        if "tool_calls" in message or role == "tool":  # a tool round: the tool stage built it
            cleaned.append(message)
            continue
        if not isinstance(content, str) or not content.strip():
            raise InvalidInputError("A message has no text. Write something for the model to answer.")
        cleaned.append(ChatMessage(role=role, content=content))
    if all(m["role"] == "system" for m in cleaned):
        raise InvalidInputError("There is only a system prompt; add a user message to answer.")
    return cleaned
