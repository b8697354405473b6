"""Cutting a growing answer into Discord messages.

Messages before the last never change once cut, so a streaming answer never rewrites what was already sent. Cuts
prefer a paragraph, then a line, then a sentence, then a word; a code block that spans a cut is closed at the end
of one message and reopened with the same language at the start of the next.
"""

from __future__ import annotations

import re

DISCORD_LIMIT = 2000  # characters of plain content in one message
COMPONENTS_LIMIT = 4000  # characters of text across one Components V2 message's text displays
MARKER_ROOM = 2  # the streaming marker after the last message's text; a notice's room is asked for when known
BODY_LIMIT = DISCORD_LIMIT - MARKER_ROOM
CLOSE_PACKING = 20  # a natural cut in the last twentieth of the room is preferred: long answers take fewer messages
FENCE = "```"
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")


def open_fence(text: str) -> str | None:
    """The opening line of the code block still open at the end of `text`, if any."""
    opened: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(FENCE):
            opened = None if opened is not None else stripped
    return opened


def closed(text: str) -> str:
    """`text` with any open code block closed, so a partial message always renders as valid markdown."""
    return text.rstrip("\n") + "\n" + FENCE if open_fence(text) is not None else text


def cut_point(text: str, limit: int) -> int:
    """Where to cut `text` so the first part is at most `limit` characters, at the most natural boundary."""
    window = text[:limit]
    # First a paragraph, line or sentence close to the limit, then one as far back as half (never so early that
    # messages become tiny), then a word.
    for floor in (limit - limit // CLOSE_PACKING, limit // 2):
        at = _natural_cut(window, floor)
        if at is not None:
            return at
    at = window.rfind(" ", limit // 2)
    return at + 1 if at != -1 else limit


def _natural_cut(window: str, floor: int) -> int | None:
    for boundary in ("\n\n", "\n"):
        at = window.rfind(boundary, floor)
        if at != -1:
            return at + len(boundary)
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window, floor)]
    return sentence_ends[-1] + 1 if sentence_ends else None


class MessageSplitter:
    """Feeds on the whole text so far; `bodies` are the message contents (all but the last are final).

    Every body fits `limit` with its code block closed; the last also leaves `reserve` characters for a notice.
    """

    def __init__(self, limit: int = BODY_LIMIT) -> None:
        self.limit = limit
        self.frozen: list[str] = []
        self._consumed = 0  # characters of the full text already in frozen messages
        self._reopen = ""  # fence line that starts the next message when a code block spans the cut

    def update(self, text: str, reserve: int = 0) -> list[str]:
        reserve = min(reserve, self.limit // 2)
        while len(closed(body := self._reopen + text[self._consumed :])) + reserve > self.limit:
            cut = cut_point(body, min(self.limit - len(FENCE) - 1, len(body) - 1))
            cut = max(cut, len(self._reopen) + 1)
            head = body[:cut]
            fence = open_fence(head)
            self.frozen.append(closed(head) if fence else head.rstrip())
            self._consumed += cut - len(self._reopen)
            self._reopen = fence + "\n" if fence else ""
            while self._consumed < len(text) and text[self._consumed] in " \n" and not self._reopen:
                self._consumed += 1
        tail = self._reopen + text[self._consumed :]
        return [*self.frozen, tail] if tail.strip() or not self.frozen else list(self.frozen)


def split_message(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """A finished text as message contents, each at most `limit` characters with balanced code fences."""
    return MessageSplitter(limit).update(text)
