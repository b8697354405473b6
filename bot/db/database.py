"""The database handle the composition root opens: migrated engines plus session factories.

`sessions()` is for reading; `writes.begin()` for every transaction that changes something. On SQLite the two are
different engines (see `engine.py`: one writer, concurrent readers); on PostgreSQL they are the same pool.

A store that cannot take the work right now (SQLite still locked after its busy timeout, PostgreSQL's pool empty for
its whole timeout, the server unreachable) raises `StoreBusyError`, a `BusyError` with a sentence for the user, so
no caller above this layer needs to know SQLAlchemy's exceptions. The transaction has rolled back by then.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import PoolSettings, is_sqlite, make_engine, make_sessionmaker, make_write_engine
from bot.db.migrate import upgrade_unless_at_head
from bot.errors import StoreBusyError

log = logging.getLogger(__name__)


class Sessions:
    """A session factory whose sessions turn the store's own busy errors into `StoreBusyError`."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._maker() as session:
                yield session
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            raise _busy(exc) from exc

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        try:
            async with self._maker.begin() as session:
                yield session
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            raise _busy(exc) from exc


def _busy(exc: Exception) -> StoreBusyError:
    log.warning("The database refused work: %s", exc.__class__.__name__, exc_info=exc)
    return StoreBusyError()


class Database:
    def __init__(self, engine: AsyncEngine, write_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._write_engine = write_engine
        self.sessions = Sessions(make_sessionmaker(engine))
        self.writes = Sessions(make_sessionmaker(write_engine or engine))

    @classmethod
    async def open(cls, url: str, migrate: bool = True, pool: PoolSettings | None = None) -> Database:
        """Connect, and upgrade the schema to head first when it is not there (the bot and the playground always
        check)."""
        db = cls(make_engine(url, pool), make_write_engine(url) if is_sqlite(url) else None)
        try:
            if migrate:
                await upgrade_unless_at_head(db.engine, url)
        except BaseException:
            await db.close()
            raise
        log.info("Database ready: %s", make_url(url).render_as_string(hide_password=True))
        return db

    async def close(self) -> None:
        if self._write_engine is not None:
            await self._write_engine.dispose()
        await self.engine.dispose()
