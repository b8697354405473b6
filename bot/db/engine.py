"""The async engines and session factories.

SQLite allows one writer at a time. Two transactions that read first and then write can fail at once with
"database is locked" (the second cannot upgrade its read snapshot), however long the busy timeout. So the bot
writes through one connection of its own that opens every transaction with `BEGIN IMMEDIATE`: writers queue for
that connection in the process, and wait out other processes (the terminal chat) in SQLite's busy timeout.
Reads keep their own pool and, in WAL mode, never wait for the writer. PostgreSQL needs none of this: one pool,
sized by settings, for both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.ops import metrics

BUSY_TIMEOUT_MS = 15000
WRITE_QUEUE_SECONDS = 120.0  # how long a write may wait for SQLite's single write connection


@dataclass(frozen=True, slots=True)
class PoolSettings:
    size: int = 10
    max_overflow: int = 10
    timeout: float = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes of the process
    cursor.close()


def _begin_immediate_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own deferred BEGIN is replaced by ours


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _started(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
    context._hfbot_started = time.perf_counter()


def _finished(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    started = getattr(context, "_hfbot_started", None)
    if started is not None:
        verb = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else "other"
        operation = verb if verb in ("select", "insert", "update", "delete") else "other"
        metrics.db_operation.labels(operation).observe(time.perf_counter() - started)


def instrument(engine: AsyncEngine) -> AsyncEngine:
    """Time every statement for the `hfbot_db_operation_seconds` histogram."""
    event.listen(engine.sync_engine, "before_cursor_execute", _started)
    event.listen(engine.sync_engine, "after_cursor_execute", _finished)
    return engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, pool: PoolSettings | None = None) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return instrument(engine)
    pool = pool or PoolSettings()
    return instrument(
        create_async_engine(
            url, pool_pre_ping=True, pool_size=pool.size, max_overflow=pool.max_overflow, pool_timeout=pool.timeout
        )
    )


def make_write_engine(url: str) -> AsyncEngine:
    """SQLite's single writer: one connection, every transaction `BEGIN IMMEDIATE`."""
    engine = create_async_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=1,
        max_overflow=0,
        pool_timeout=WRITE_QUEUE_SECONDS,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "connect", _begin_immediate_on_connect)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return instrument(engine)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
