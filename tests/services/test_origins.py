"""ThreadOrigins: which question and answer a message shows, and what a thread's memory already holds (SQLite and
PostgreSQL, migrated by Alembic)."""

from __future__ import annotations

from bot.db import history
from bot.db.database import Database
from bot.domain import Quote
from bot.services.origins import ASSISTANT, ThreadOrigins


async def _exchange(db: Database, channel: int, question: str, answer: str, shown: str) -> None:
    async with db.writes.begin() as session:
        await history.add_turn(session, channel_id=channel, role="user", content=question, author_name="bob")
        turn = await history.add_turn(session, channel_id=channel, role="assistant", content=answer)
        await history.update_turn(session, turn.id, message_ids=shown)


async def test_the_answer_a_message_shows_and_its_question(database: Database) -> None:
    origins = ThreadOrigins(database)
    await _exchange(database, 10, "first question", "first answer", "10:123")
    await _exchange(database, 10, "long question", "a two-message answer", "10:200,10:201")
    await _exchange(database, 11, "elsewhere", "other channel", "11:300")
    assert await origins.answer_in(10, 123) == [Quote("bob", "first question"), Quote(ASSISTANT, "first answer")]
    assert await origins.answer_in(10, 201) == [Quote("bob", "long question"), Quote(ASSISTANT, "a two-message answer")]
    assert await origins.answer_in(10, 12) == []  # a prefix of an id is not the id
    assert await origins.answer_in(10, 1234) == []
    assert await origins.answer_in(10, 300) == []  # shown in another channel


async def test_what_a_conversation_already_remembers(database: Database) -> None:
    origins = ThreadOrigins(database)
    await _exchange(database, 20, "what is a good telescope?\n[attached: sky.png (image/png, 3 KB)]", "a", "20:1")
    assert await origins.remembered(20, "what is a good telescope?")
    assert not await origins.remembered(20, "what is a good microscope?")
    assert not await origins.remembered(21, "what is a good telescope?")
