"""The schema belongs to Alembic: upgrade, no drift, downgrade, upgrade again — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.db.database import Database
from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, at_head, head_revision, upgrade


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_check_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert {"turns", "personas", "place_settings", "audit_log", "alembic_version"} <= await _tables(db_url)
    # `alembic check` fails if the models and the migrations disagree.
    await asyncio.to_thread(command.check, alembic_config(db_url))
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "base")
    assert await _tables(db_url) <= {"alembic_version"}
    await upgrade(db_url)
    db = await Database.open(db_url, migrate=False)
    async with db.sessions() as session:
        names = (await session.scalars(text("SELECT name FROM personas ORDER BY name"))).all()
    await db.close()
    assert names == ["assistant", "coder", "storyteller", "tutor"]


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'bot.db'}")  # creates the folder
    async with db.engine.connect() as conn:
        assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await conn.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await conn.scalar(text("PRAGMA busy_timeout"))) == 15000
    await db.close()


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_at_head_only_when_stamped_with_the_head(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert not await at_head(engine)  # empty: no alembic_version table
        await asyncio.to_thread(command.upgrade, alembic_config(db_url), "0006")
        assert not await at_head(engine)
        await upgrade(db_url)
        assert await at_head(engine)
    finally:
        await engine.dispose()
