"""Turning a message list into one prompt string when a model's tokenizer has no chat template."""

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


def render_prompt(tokenizer: Any, messages: Sequence[ChatMessage]) -> str:
    """The tokenizer's own chat template when it has one, else `plain_prompt`.

    A final assistant message is continued in place (Continue on an answer cut by the length limit).
    """
    if getattr(tokenizer, "chat_template", None):
        continuing = bool(messages) and messages[-1]["role"] == "assistant"
        rendered = tokenizer.apply_chat_template(
            list(messages),
            tokenize=False,
            add_generation_prompt=not continuing,
            continue_final_message=continuing,
        )
        return str(rendered)
    return plain_prompt(messages)
