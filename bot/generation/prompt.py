"""Turning a message list into one prompt string when a model's tokenizer has no chat template."""

import json
from collections.abc import Sequence
from typing import Any

from bot.domain import ChatMessage

_LABELS = {"system": "System", "user": "User", "assistant": "Assistant"}


def plain_prompt(messages: Sequence[ChatMessage]) -> str:
    """A readable transcript ending with the assistant's cue; works for base models too.

    When the last message is the assistant's own, the prompt ends inside it, so the model continues that text.
    """
    if messages and messages[-1]["role"] == "assistant":
        *earlier, last = messages
        return plain_prompt(earlier).rstrip() + " " + last["content"]
    lines = [f"{_LABELS[m['role']]}: {m['content'].strip()}" for m in messages]
    lines.append("Assistant:")
    return "\n\n".join(lines)


def takes_tools(tokenizer: Any) -> bool:
    """Whether the model's chat template renders a `tools` list (Qwen2.5, SmolLM2-1.7B, Llama 3.x do)."""
    return "tools" in str(getattr(tokenizer, "chat_template", None) or "")


def render_prompt(
    tokenizer: Any, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]] | None = None
) -> str:
    """The tokenizer's own chat template when it has one, else `plain_prompt`.

    A final assistant message is continued in place (Continue on an answer cut by the length limit). `tools` are
    rendered by the template (only offered when `takes_tools`); a tool round's arguments go in as objects, the way
    templates expect them.
    """
    if getattr(tokenizer, "chat_template", None):
        continuing = bool(messages) and messages[-1]["role"] == "assistant"
        extra = {"tools": list(tools)} if tools else {}
        rendered = tokenizer.apply_chat_template(
            [_for_template(m) for m in messages],
            tokenize=False,
            add_generation_prompt=not continuing,
            continue_final_message=continuing,
            **extra,
        )
        return str(rendered)
    return plain_prompt(messages)


def _for_template(message: ChatMessage) -> dict[str, Any]:
    if "tool_calls" not in message:
        return dict(message)
    calls = []
    for call in message["tool_calls"]:
        function = call["function"]
        try:
            arguments = json.loads(function["arguments"] or "{}")
        except ValueError:
            arguments = {}
        calls.append({"type": "function", "function": {"name": function["name"], "arguments": arguments}})
    return {**message, "tool_calls": calls}
