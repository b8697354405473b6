"""The database handle the composition root opens: migrated engine plus a session factory."""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade

log = logging.getLogger(__name__)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> Database:
        """Upgrade the schema to head (the bot and the playground always do), then connect."""
        if migrate:
            await upgrade(url)
        log.info("Database ready: %s", make_url(url).render_as_string(hide_password=True))
        return cls(make_engine(url))

    async def close(self) -> None:
        await self.engine.dispose()
