"""The database handle the composition root opens: migrated engines plus session factories.

`sessions` is for reading; `writes.begin()` for every transaction that changes something. On SQLite the two are
different engines (see `engine.py`: one writer, concurrent readers); on PostgreSQL they are the same pool.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import PoolSettings, is_sqlite, make_engine, make_sessionmaker, make_write_engine
from bot.db.migrate import upgrade

log = logging.getLogger(__name__)


class Database:
    def __init__(self, engine: AsyncEngine, write_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._write_engine = write_engine
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
        self.writes: async_sessionmaker[AsyncSession] = make_sessionmaker(write_engine or engine)

    @classmethod
    async def open(cls, url: str, migrate: bool = True, pool: PoolSettings | None = None) -> Database:
        """Upgrade the schema to head (the bot and the playground always do), then connect."""
        if migrate:
            await upgrade(url)
        log.info("Database ready: %s", make_url(url).render_as_string(hide_password=True))
        return cls(make_engine(url, pool), make_write_engine(url) if is_sqlite(url) else None)

    async def close(self) -> None:
        if self._write_engine is not None:
            await self._write_engine.dispose()
        await self.engine.dispose()
