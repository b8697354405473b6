"""Conversation turns per channel: the only place that queries the `turns` table."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import TurnRow, utcnow


@dataclass(frozen=True, slots=True)
class Turn:
    id: int
    channel_id: int
    role: str
    content: str
    author_name: str | None
    status: str
    created_at: datetime
    model: str | None = None
    persona: str | None = None
    token_count: int | None = None
    author_id: int | None = None
    guild_id: int | None = None


def _turn(row: TurnRow) -> Turn:
    return Turn(
        id=row.id,
        channel_id=row.channel_id,
        role=row.role,
        content=row.content,
        author_name=row.author_name,
        status=row.status,
        created_at=row.created_at,
        model=row.model,
        persona=row.persona,
        token_count=row.token_count,
        author_id=row.author_id,
        guild_id=row.guild_id,
    )


async def add_turn(
    session: AsyncSession,
    *,
    channel_id: int,
    role: str,
    content: str,
    guild_id: int | None = None,
    author_id: int | None = None,
    author_name: str | None = None,
    model: str | None = None,
    persona: str | None = None,
    token_count: int | None = None,
    status: str = "complete",
) -> Turn:
    row = TurnRow(
        channel_id=channel_id,
        guild_id=guild_id,
        role=role,
        content=content,
        author_id=author_id,
        author_name=author_name,
        model=model,
        persona=persona,
        token_count=token_count,
        status=status,
    )
    session.add(row)
    await session.flush()
    return _turn(row)


_TURN_COLUMNS = [getattr(TurnRow, f.name) for f in fields(Turn)]


async def recent_turns(session: AsyncSession, channel_id: int, limit: int, before_id: int | None = None) -> list[Turn]:
    """The newest `limit` turns of a channel (before `before_id` if given), oldest first.

    Plain rows, not ORM objects: this is the hot path of every answer.
    """
    query = select(*_TURN_COLUMNS).where(TurnRow.channel_id == channel_id)
    if before_id is not None:
        query = query.where(TurnRow.id < before_id)
    query = query.order_by(TurnRow.id.desc()).limit(limit)
    rows = (await session.execute(query)).all()
    return [Turn(*row) for row in reversed(rows)]


async def delete_turn(session: AsyncSession, turn_id: int) -> bool:
    result = await session.execute(delete(TurnRow).where(TurnRow.id == turn_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def count_turns(session: AsyncSession, channel_id: int) -> int:
    query = select(func.count()).select_from(TurnRow).where(TurnRow.channel_id == channel_id)
    return int(await session.scalar(query) or 0)


async def clear_channel(session: AsyncSession, channel_id: int) -> int:
    result = await session.execute(delete(TurnRow).where(TurnRow.channel_id == channel_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune_channel(session: AsyncSession, channel_id: int, max_turns: int, max_age: timedelta) -> int:
    """Delete turns beyond the newest `max_turns` and those older than `max_age`."""
    boundary = (
        select(TurnRow.id)
        .where(TurnRow.channel_id == channel_id)
        .order_by(TurnRow.id.desc())
        .offset(max_turns)
        .limit(1)
        .scalar_subquery()
    )
    stale = or_(TurnRow.created_at < utcnow() - max_age, TurnRow.id <= boundary)
    result = await session.execute(delete(TurnRow).where(TurnRow.channel_id == channel_id, stale))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
