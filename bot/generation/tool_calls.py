"""Assembling tool calls from a stream: OpenAI-style deltas arrive in pieces (an index, then the id and name once,
then the arguments' JSON a few characters at a time), and one turn may call several tools."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.tools.types import ToolCall

_ids = itertools.count(1)
TAGGED_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


@dataclass
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    def __init__(self) -> None:
        self._calls: dict[int, _Partial] = {}

    def feed(self, deltas: list[Any]) -> None:
        for position, delta in enumerate(deltas):
            index = getattr(delta, "index", None)
            partial = self._calls.setdefault(index if isinstance(index, int) else position, _Partial())
            partial.id = partial.id or (getattr(delta, "id", None) or "")
            function = getattr(delta, "function", None)
            partial.name = partial.name or (getattr(function, "name", None) or "")
            partial.arguments.append(getattr(function, "arguments", None) or "")

    def any(self) -> bool:
        return bool(self._calls)

    def finish(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(p.id or f"call_{next(_ids)}", p.name, "".join(p.arguments)) for _, p in sorted(self._calls.items())
        )


def tagged_calls(text: str) -> tuple[ToolCall, ...]:
    """Calls a local model wrote in its template's format, `<tool_call>{"name": …, "arguments": {…}}</tool_call>`;
    a call that does not parse keeps its raw text as arguments, so the model is told it was malformed."""
    calls: list[ToolCall] = []
    for raw in TAGGED_CALL.findall(text):
        try:
            data = json.loads(raw)
            name, arguments = str(data["name"]), data.get("arguments", data.get("parameters", {}))
            encoded = arguments if isinstance(arguments, str) else json.dumps(arguments)
        except (ValueError, KeyError, TypeError):
            name, encoded = "", raw
        calls.append(ToolCall(f"call_{next(_ids)}", name, encoded))
    return tuple(calls)


OPEN_TAG = "<tool_call>"


class TaggedCallFilter:
    """A local model's text with its `<tool_call>` blocks held back: the reader never sees a call's raw arguments.

    Text before the first tag streams through (a piece that could be the start of a tag waits for the next one);
    from the tag on, everything is kept for `calls()`.
    """

    def __init__(self) -> None:
        self._held = ""
        self._calling = False

    def feed(self, piece: str) -> str:
        if self._calling:
            self._held += piece
            return ""
        text = self._held + piece
        at = text.find(OPEN_TAG)
        if at >= 0:
            self._calling, self._held = True, text[at:]
            return text[:at]
        keep = next((n for n in range(len(OPEN_TAG) - 1, 0, -1) if text.endswith(OPEN_TAG[:n])), 0)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """Text still held that turned out not to be a tag."""
        if self._calling:
            return ""
        held, self._held = self._held, ""
        return held

    def calls(self) -> tuple[ToolCall, ...]:
        return tagged_calls(self._held) if self._calling else ()
