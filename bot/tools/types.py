"""What a tool is, what a model asks of one, and what it gets back. Imports nothing of the project's but the domain,
so the generation layer can yield tool calls without knowing any tool."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Outcome = Literal["ok", "error", "timeout", "malformed"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as a model is offered it: its name, what it does, its arguments' JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    status: str = "Using a tool…"  # the line shown while it runs; never its arguments
    source: str = "builtin"  # "builtin", or the MCP server it comes from

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style `tools` entry chat servers and chat templates take."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call a model asked for: `arguments` as the model wrote them (JSON text, maybe malformed)."""

    id: str
    name: str
    arguments: str

    def parsed(self) -> dict[str, Any]:
        """The arguments as an object; raises ValueError when the model wrote something else."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("tool arguments must be a JSON object")
        return value

    def message_entry(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """A backend's stream item: the model ended its turn asking for these calls instead of (or after) text."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class ToolResult:
    call: ToolCall
    content: str
    outcome: Outcome = "ok"


@dataclass(frozen=True, slots=True)
class ToolPlace:
    """All a tool learns of where it runs: the conversation's place, never a token or a setting."""

    guild_id: int | None
    channel_id: int
    time_zone: str | None = None
    in_context: tuple[int, ...] = ()  # stored turns the model already sees (a search need not return them)


class ToolError(Exception):
    """A tool could not do what it was asked; the message goes back to the model (not to the user)."""


class Tool(Protocol):
    spec: ToolSpec

    async def run(self, arguments: dict[str, Any], place: ToolPlace) -> str:
        """The tool's output as text; raises ToolError (or anything) when it fails."""
        ...
