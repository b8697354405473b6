"""Per-user cooldowns in the database: one atomic upsert decides."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CooldownRow


async def start_if_over(session: AsyncSession, user_id: int, now: datetime, cooldown: timedelta) -> bool:
    """Start the user's cooldown now, unless the last one is not over yet; True when it started."""
    insert: Any = sqlite_insert
    if session.get_bind().dialect.name == "postgresql":  # loaded here: a SQLite bot never needs the dialect
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        insert = pg_insert
    statement = (
        insert(CooldownRow)
        .values(user_id=user_id, last_at=now)
        .on_conflict_do_update(
            index_elements=[CooldownRow.user_id],
            set_={"last_at": now},
            where=CooldownRow.last_at <= now - cooldown,
        )
        .returning(CooldownRow.user_id)
    )
    return (await session.execute(statement)).first() is not None


async def last(session: AsyncSession, user_id: int) -> datetime | None:
    return await session.scalar(select(CooldownRow.last_at).where(CooldownRow.user_id == user_id))
