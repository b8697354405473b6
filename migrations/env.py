"""Alembic environment: async engine, batch mode on SQLite, the project's models as the target."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.engine import make_engine
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata

# Several bot processes may start at once on one PostgreSQL: the first to take this lock migrates, the others wait
# for its commit and then find the schema at head. (A transaction-level lock: released when the migration commits.)
MIGRATION_LOCK = 0x6866_6274


SEARCH_OBJECTS = ("turns_fts", "ix_turns_content_search")  # full-text search: raw SQL in 0008/0009, not in models


def _include(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    return not (name or "").startswith(SEARCH_OBJECTS)


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from bot.settings import Settings  # the `alembic` CLI: same settings as the bot

    return Settings().database_url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    is_sqlite = (connection.dialect.name if connection is not None else str(url)).startswith("sqlite")
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,  # SQLite cannot ALTER most things in place
        compare_type=True,
        include_object=_include,
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
