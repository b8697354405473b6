"""What a thread was opened on, as quotes for the first answers in it (the way a reply chain is quoted)."""

from __future__ import annotations

from bot.db import origins
from bot.db.database import Database
from bot.domain import Quote

ASSISTANT = "you (the assistant)"
QUOTE_CHARS = 1500  # of each quoted message, as for a reply chain


def _cut(text: str) -> str:
    return text[:QUOTE_CHARS] + ("…" if len(text) > QUOTE_CHARS else "")


class ThreadOrigins:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def answer_in(self, channel_id: int, message_id: int) -> list[Quote]:
        """The question and answer a message of `channel_id` shows, oldest first; [] when it shows no answer."""
        async with self.db.sessions() as session:
            found = await origins.answer_shown_in(session, channel_id, message_id)
        if found is None:
            return []
        question, answer = found
        return [
            Quote(question.author_name or "someone", _cut(question.content)),
            Quote(ASSISTANT, _cut(answer.content)),
        ]

    async def remembered(self, channel_id: int, text: str) -> bool:
        """Whether the conversation at `channel_id` already holds this question (so quoting it again is noise)."""
        if not text.strip():
            return True
        async with self.db.sessions() as session:
            return await origins.remembers(session, channel_id, text.strip())
