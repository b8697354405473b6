"""Separating a reasoning model's thinking from its answer when both arrive as text.

Qwen3, QwQ and DeepSeek-R1 served without a reasoning parser (TGI, llama.cpp) put their reasoning in the content,
inside a `<think>…</think>` block at the start of the answer. Pieces arrive in arbitrary cuts, so a tag can be split
across two pieces: text that might be the start of a tag is held back until the next piece decides.
"""

from __future__ import annotations

from bot.domain import Thought

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    def __init__(self) -> None:
        self._thinking = False
        self._decided = False  # a block can only open at the very start of the answer
        self._pending = ""

    def feed(self, piece: str) -> list[str | Thought]:
        self._pending += piece
        out: list[str | Thought] = []
        if not self._decided:
            head = self._pending.lstrip()
            if not head or (OPEN.startswith(head) and head != OPEN):
                return out  # could still become "<think>"
            self._decided = True
            if head.startswith(OPEN):
                self._thinking, self._pending = True, head[len(OPEN) :]
        if self._thinking:
            before, found, after = self._pending.partition(CLOSE)
            if not found:
                keep = _partial_suffix(self._pending, CLOSE)
                thought, self._pending = (
                    self._pending[: len(self._pending) - keep],
                    self._pending[len(self._pending) - keep :],
                )
                return [Thought(thought)] if thought else out
            if before:
                out.append(Thought(before))
            self._thinking, self._pending = False, after.lstrip()
        if self._pending:
            out.append(self._pending)
            self._pending = ""
        return out

    def flush(self) -> list[str | Thought]:
        """The end of the stream: whatever was held back is what it looked like."""
        rest, self._pending = self._pending, ""
        if not rest:
            return []
        return [Thought(rest)] if self._thinking else [rest]


def _partial_suffix(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
