"""Turning a message list into one prompt string when a model's tokenizer has no chat template."""

from collections.abc import Sequence
from typing import Any

from bot.generation.types import ChatMessage

_LABELS = {"system": "System", "user": "User", "assistant": "Assistant"}


def plain_prompt(messages: Sequence[ChatMessage]) -> str:
    """A readable transcript ending with the assistant's cue; works for base models too."""
    lines = [f"{_LABELS[m['role']]}: {m['content'].strip()}" for m in messages]
    lines.append("Assistant:")
    return "\n\n".join(lines)


def render_prompt(tokenizer: Any, messages: Sequence[ChatMessage]) -> str:
    """The tokenizer's own chat template when it has one, else `plain_prompt`."""
    if getattr(tokenizer, "chat_template", None):
        rendered = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        return str(rendered)
    return plain_prompt(messages)
