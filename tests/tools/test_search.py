"""Full-text search over stored turns on SQLite (FTS5) and PostgreSQL (tsvector + GIN): one channel only, the
turns stored before the migration indexed too, edits and deletions followed."""

from __future__ import annotations

from sqlalchemy import text

from bot.db import history
from bot.db.database import Database
from bot.db.migrate import upgrade
from bot.services.tools import ToolService
from bot.tools.types import ToolPlace


async def test_turns_stored_before_the_migration_are_found(db_url: str) -> None:
    await upgrade(db_url, "0007")
    db = await Database.open(db_url, migrate=False)
    async with db.writes.begin() as session:
        await session.execute(
            text(
                "INSERT INTO turns (channel_id, role, content, author_name, status, created_at) VALUES "
                "(5, 'user', 'The deploy key rotates every quarter', 'Ann', 'complete', CURRENT_TIMESTAMP)"
            )
        )
    await db.close()
    await upgrade(db_url)
    db = await Database.open(db_url)
    async with db.sessions() as session:
        found = await history.search_turns(session, 5, "rotating deploy keys?", 5)
    await db.close()
    assert [t.content for t in found] == ["The deploy key rotates every quarter"]


async def test_search_stays_in_its_channel_and_follows_changes(database: Database) -> None:
    async with database.writes.begin() as session:
        mine = await history.add_turn(
            session, channel_id=1, role="user", content="Budget is 4000 euros", author_name="A"
        )
        await history.add_turn(session, channel_id=2, role="user", content="Budget is secret", author_name="B")
        thread = await history.add_turn(session, channel_id=3, role="user", content="Budget in the thread")
        await history.add_turn(session, channel_id=1, role="assistant", content="", status="streaming")
    async with database.sessions() as session:
        assert [t.id for t in await history.search_turns(session, 1, "budget", 5)] == [mine.id]
        assert [t.id for t in await history.search_turns(session, 3, "budget", 5)] == [thread.id]
        assert await history.search_turns(session, 1, "a is", 5) == []  # only words too short to mean anything
        assert [t.id for t in await history.search_turns(session, 1, "budgets", 5)] == [mine.id]  # English stems
        assert await history.search_turns(session, 1, 'budget" OR content:*', 5) != []  # no query syntax gets in
    async with database.writes.begin() as session:
        await history.update_turn(session, mine.id, content="Spending cap agreed")
    async with database.sessions() as session:
        assert await history.search_turns(session, 1, "budget", 5) == []
        assert [t.id for t in await history.search_turns(session, 1, "spending", 5)] == [mine.id]
    async with database.writes.begin() as session:
        await history.delete_turn(session, mine.id)
    async with database.sessions() as session:
        assert await history.search_turns(session, 1, "spending", 5) == []


async def test_the_search_tool_leaves_out_what_the_model_already_sees(database: Database) -> None:
    async with database.writes.begin() as session:
        old = await history.add_turn(session, channel_id=1, role="user", content="Pizza on Friday", author_name="A")
        new = await history.add_turn(session, channel_id=1, role="user", content="Is pizza still on?", author_name="B")
    tool = ToolService(database).catalogue.tools()[0]
    output = await tool.run({"query": "pizza"}, ToolPlace(None, 1, in_context=(new.id,)))
    assert output.endswith("UTC] A: Pizza on Friday") and "still" not in output
    assert old.id != new.id
    assert (
        await tool.run({"query": "sushi"}, ToolPlace(None, 1)) == "No earlier messages in this channel match 'sushi'."
    )
