"""One message of an answer as the renderer wants it shown, and the sink that shows it.

A page is the message's text, a small notice line under it (length cut, stopped, interrupted) and its controls;
the sink turns it into Discord's shape (plain content, or Components V2 text displays and an action row) and says
how many characters one message holds in that shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

NOTICE_GAP = "\n\n"  # between the text and its notice, when both share one piece of content


@dataclass(frozen=True, slots=True)
class Page:
    body: str
    notice: str = ""
    controls: Any | None = None  # the surface's buttons; compared by identity

    def text(self) -> str:
        """The page as one piece of text (classic content, the terminal, read-back in tests)."""
        return f"{self.body}{NOTICE_GAP}{self.notice}".strip() if self.notice else self.body


def notice_room(notice: str) -> int:
    """Characters a notice takes from its message's limit, in either layout."""
    return len(NOTICE_GAP) + len(notice) if notice else 0


class MessageSink(Protocol):
    """Where an answer's messages go (an interaction's response and follow-ups, or a channel)."""

    @property
    def message_limit(self) -> int:
        """Characters of text one message holds (2,000 as content, 4,000 in Components V2)."""

    async def create(self, page: Page) -> Any: ...

    async def edit(self, handle: Any, page: Page) -> None: ...
