"""Context assembly: the persona's system prompt, then the newest turns that fit the model's budget.

Token counts come from the backend: the model's own tokenizer for local models, a documented estimate
(`hf_api.CHARS_PER_TOKEN`) for API models. Room for the answer is kept free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain import ChatMessage, Persona, Turn
from bot.generation.types import Backend

MESSAGE_OVERHEAD_TOKENS = 6  # chat-template framing around each message (role markers, separators)
CUT_MARK = " …[cut]"
MIN_CUT_TOKENS = 32


@dataclass(frozen=True, slots=True)
class Context:
    messages: list[ChatMessage]
    left_out: int  # older turns that did not fit
    cut: int  # turns shortened to fit
    speaker_names: list[str] = field(default_factory=list)  # the people in it, when it has more than one


def speakers(turns: Sequence[Turn]) -> list[str]:
    """The distinct human speakers, in order of first appearance."""
    names: dict[object, str] = {}
    for turn in turns:
        if turn.role == "user" and turn.author_name:
            names.setdefault(turn.author_id or turn.author_name, turn.author_name)
    return list(names.values())


def turn_message(turn: Turn, named: bool) -> ChatMessage:
    """With several people in the conversation their turns carry their names, so the model can tell them apart;
    with one, a name would only teach a small model to start its own reply with one."""
    if turn.role == "user" and named and turn.author_name:
        return {"role": "user", "content": f"{turn.author_name}: {turn.content}"}
    return {"role": "assistant" if turn.role == "assistant" else "user", "content": turn.content}


def answer_room(window: int, max_tokens: int) -> int:
    return min(max_tokens, window // 2)


def _cut(text: str, tokens: int, allowed: int) -> str:
    keep = max(1, int(len(text) * allowed / max(tokens, 1)) - len(CUT_MARK))
    return text[:keep] + CUT_MARK


async def assemble(
    backend: Backend, persona: Persona, turns: Sequence[Turn], max_tokens: int, reserved: int = 0
) -> Context:
    """`reserved`: tokens that will be added to the question afterwards (its files, its reply chain)."""
    window = await backend.context_window()
    system: ChatMessage = {"role": "system", "content": persona.system_prompt}
    people = speakers(turns)
    named = len(people) > 1
    messages = [turn_message(t, named) for t in turns]
    counts = await backend.count_text([system["content"], *(m["content"] for m in messages)])
    budget = window - answer_room(window, max_tokens) - counts[0] - 2 * MESSAGE_OVERHEAD_TOKENS - reserved
    per_turn_cap = budget // 2  # one huge turn may not push every other turn out
    kept: list[ChatMessage] = []
    cut = 0
    for message, tokens in zip(reversed(messages), reversed(counts[1:]), strict=True):
        allowed = (budget if not kept else min(per_turn_cap, budget)) - MESSAGE_OVERHEAD_TOKENS
        if tokens > allowed:
            if kept and allowed < MIN_CUT_TOKENS:
                break  # too little room left for a useful piece of an older turn
            message = {"role": message["role"], "content": _cut(message["content"], tokens, allowed)}
            tokens, cut = allowed, cut + 1
        kept.append(message)
        budget -= tokens + MESSAGE_OVERHEAD_TOKENS
    kept.reverse()
    return Context([system, *kept], len(messages) - len(kept), cut, people if named else [])
