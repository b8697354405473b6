"""Keeping a model's echo of chat framing out of its answer.

Small models shown `Name: message` turns sometimes start their reply with a name and a colon, or with their own
role (`assistant:`). The guard holds back the first characters of an answer until it can tell, then drops such a
prefix; everything after the start passes through untouched.
"""

from __future__ import annotations

import re

HOLD_CHARS = 40  # longer than any name prefix we strip; short enough not to delay the first visible text
ROLE_WORDS = ("assistant", "ai", "bot")


class EchoGuard:
    def __init__(self, names: list[str]) -> None:
        self._words = [n.lower() for n in [*names, *ROLE_WORDS] if n]
        alternatives = "|".join(re.escape(w) for w in self._words)
        self._prefix = re.compile(rf"^\s*(?:{alternatives})\s*:\s*", re.IGNORECASE)
        self._held = ""
        self._decided = False
        self._strip_next = False  # a prefix was dropped: the space after it goes too

    def feed(self, piece: str, first: bool = True) -> list[str]:
        """Text safe to show now (empty while the start of the answer is still undecided)."""
        if self._decided or not first:
            self._decided = True
            if self._strip_next:
                piece = piece.lstrip()
                self._strip_next = not piece
            return [piece] if piece else []
        self._held += piece
        if len(self._held) < HOLD_CHARS and ":" not in self._held and "\n" not in self._held:
            if not self._could_be_prefix():
                return self._release()
            return []
        return self._release()

    def flush(self) -> list[str]:
        return self._release() if not self._decided else []

    def _could_be_prefix(self) -> bool:
        stripped = self._held.lstrip().lower()
        return any(w.startswith(stripped) or stripped.startswith(w) for w in self._words)

    def _release(self) -> list[str]:
        self._decided = True
        text, self._held = self._prefix.sub("", self._held, count=1), ""
        self._strip_next = not text
        return [text] if text else []
