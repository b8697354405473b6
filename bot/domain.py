"""Domain types: the bottom layer every other module may import, and which imports nothing of the project's.

Place and scope (where a conversation happens), persona and generation parameters (how it is answered), a stored
turn, and the one vocabulary of answer states shared by the renderer, the answer service and the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["system", "user", "assistant", "tool"]
Scope = Literal["channel", "guild", "global"]


class ChatMessage(TypedDict):
    role: Role
    content: str
    images: NotRequired[list[str]]  # data URLs, for models that take images (sent as OpenAI `image_url` parts)
    tool_calls: NotRequired[list[dict[str, Any]]]  # an assistant turn that called tools (OpenAI's shape)
    tool_call_id: NotRequired[str]  # a tool message: the call it answers
    name: NotRequired[str]  # a tool message: the tool's name


@dataclass(frozen=True, slots=True)
class Quote:
    """A message the question replies to (or one further up its reply chain)."""

    author: str
    text: str


@dataclass(frozen=True, slots=True)
class FileText:
    """A text attachment read into the context (already cut to its budget)."""

    name: str
    text: str


@dataclass(slots=True)
class Extras:
    """What a question brings besides its text: its reply chain, its files and images, and what could not be read."""

    quotes: list[Quote] = field(default_factory=list)  # oldest first
    files: list[FileText] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # data URLs
    described: list[str] = field(default_factory=list)  # one line per attachment, for history: name, type, size
    problems: list[str] = field(default_factory=list)  # said to the asker under the answer
    spoken: str | None = None  # the transcript, when the question was said aloud (stored marked as spoken)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a conversation happens. DMs have no guild; the terminal playground is channel 0."""

    guild_id: int | None
    channel_id: int
    parent_id: int | None = None  # a thread's channel: the thread inherits its settings unless set in the thread


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asked: their id (cooldowns, quotas, usage) and the name the model sees."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Overrides:
    """Choices made for one answer instead of the place's settings (`/ask`, the terminal's flags)."""

    persona: str | None = None
    model: str | None = None
    system: str | None = None  # replaces the persona's system prompt for this answer


NO_OVERRIDES = Overrides()


class AnswerStatus(StrEnum):
    STREAMING = "streaming"  # in flight: recorded before the first token, so a crash leaves a trace
    COMPLETE = "complete"
    TRUNCATED = "truncated"  # the length limit cut it; Continue picks it up
    INTERRUPTED = "interrupted"  # stopped by the asker, by shutdown, or by a crash
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    seed: int | None = None  # fixed sampling seed (reproducible answers); None: random

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(frozen=True, slots=True)
class Thought:
    """Reasoning a model streams before its answer (`reasoning_content`, or a `<think>` block): never answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The last item a backend yields after its text: why it stopped, and token usage when known."""

    finish_reason: Literal["stop", "length"] = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    language: str = "en-US"
    voice_name: str | None = None
    speaking_rate: float = 1.0
    pitch: float = 0.0


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    system_prompt: str
    description: str = ""
    temperature: float | None = None  # None: the model's own default
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int = 512
    voice: VoiceSettings | None = None

    @classmethod
    def coerce(cls, value: Persona | Mapping[str, Any] | str) -> Persona:
        """Accept a Persona, a mapping of its fields (the seed's dict personas), or a bare system prompt."""
        if isinstance(value, Persona):
            return value
        if isinstance(value, str):
            return cls(name="custom", system_prompt=value)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in value.items() if k in known}
        data.setdefault("name", "custom")
        data.setdefault("system_prompt", str(value.get("prompt", "")))
        if isinstance(data.get("voice"), Mapping):
            data["voice"] = VoiceSettings(**data["voice"])
        return cls(**data)


DEFAULT_PERSONA = Persona(
    name="assistant",
    description="A helpful, concise assistant.",
    system_prompt="You are a helpful assistant in a Discord server. Answer clearly and concisely.",
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored message of a conversation."""

    id: int
    channel_id: int
    role: str
    content: str
    author_name: str | None
    status: str
    created_at: datetime
    model: str | None = None
    persona: str | None = None
    token_count: int | None = None
    author_id: int | None = None
    guild_id: int | None = None
    message_ids: str | None = None  # the answer's Discord messages, "channel:message,…" (for crash recovery)
    owner: str | None = None  # while it streams: the process instance answering it
    tools_used: str | None = None  # an answer that called tools: their names ("search_history, calculate")


def params_for(
    persona: Persona, model_defaults: GenerationParams, max_new_tokens: int, **overrides: Any
) -> GenerationParams:
    """Generation parameters for one answer: the model's defaults, then what the persona states, then per-call
    overrides; the answer length can only go down from the operator's `MAX_NEW_TOKENS`."""
    chosen: dict[str, Any] = {
        "temperature": model_defaults.temperature,
        "top_p": model_defaults.top_p,
        "top_k": model_defaults.top_k,
    }
    for name in chosen:
        stated = overrides.get(name, getattr(persona, name))
        if stated is not None:
            chosen[name] = stated
    wanted = overrides.get("max_tokens") or persona.max_tokens
    return GenerationParams(
        max_tokens=max(1, min(wanted, max_new_tokens)), stop=model_defaults.stop, seed=model_defaults.seed, **chosen
    )
