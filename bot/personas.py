"""The persona a conversation runs under: a system prompt plus generation and voice parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bot.generation.types import GenerationParams


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
    temperature: float = 0.7
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int = 512
    voice: VoiceSettings | None = None

    def params(
        self,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        max_tokens: int | None = None,
    ) -> GenerationParams:
        """Generation parameters from the persona, with per-call overrides."""
        return GenerationParams(
            max_tokens=max_tokens if max_tokens is not None else self.max_tokens,
            temperature=temperature if temperature is not None else self.temperature,
            top_p=top_p if top_p is not None else self.top_p,
            top_k=top_k if top_k is not None else self.top_k,
        )

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
    temperature=0.3,
)
