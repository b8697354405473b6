"""Process leases, and the answers in flight each process owns: the only place that queries `bot_processes`.

A process registers itself and renews its heartbeat. Answers it streams carry its instance id. Leftovers are taken
over in one statement per answer, so two processes sweeping at once never both take the same answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessRow, TurnRow
from bot.domain import AnswerStatus


async def register(session: AsyncSession, instance: str, owner_key: str, now: datetime) -> None:
    session.add(ProcessRow(instance=instance, owner_key=owner_key, started_at=now, heartbeat_at=now))


async def renew(session: AsyncSession, instance: str, now: datetime) -> bool:
    """Renew the lease; False when the row is gone (another process took this one for dead)."""
    result = await session.execute(update(ProcessRow).where(ProcessRow.instance == instance).values(heartbeat_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, instance: str) -> None:
    await session.execute(delete(ProcessRow).where(ProcessRow.instance == instance))


async def end_gone(session: AsyncSession, me: str, owner_key: str, lapsed_before: datetime | None) -> list[str]:
    """Remove the processes that are gone: earlier instances of this one (same `owner_key`: a process that
    restarted), and, when `lapsed_before` is given, any whose lease lapsed before it. Returns their instances."""
    gone = [ProcessRow.owner_key == owner_key]
    if lapsed_before is not None:
        gone.append(ProcessRow.heartbeat_at < lapsed_before)
    statement = delete(ProcessRow).where(ProcessRow.instance != me, or_(*gone)).returning(ProcessRow.instance)
    return list((await session.scalars(statement)).all())


async def take_over(session: AsyncSession, me: str, instances: list[str], orphans: bool) -> list[int]:
    """Make this process the owner of answers still streaming for `instances` (processes found gone), and, with
    `orphans`, of those whose owner holds no lease at all. Returns the ids taken."""
    mine = [TurnRow.owner.in_(instances)] if instances else []
    if orphans:
        mine.append(TurnRow.owner.not_in(select(ProcessRow.instance)))
    if not mine:
        return []
    statement = (
        update(TurnRow)
        .where(TurnRow.status == AnswerStatus.STREAMING, TurnRow.owner.is_not(None), TurnRow.owner != me, or_(*mine))
        .values(owner=me)
        .returning(TurnRow.id)
    )
    return list((await session.scalars(statement)).all())


def lapse(now: datetime, lease_seconds: float) -> datetime:
    return now - timedelta(seconds=lease_seconds)
