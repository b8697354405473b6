"""The audit trail of admin changes: who changed what, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    guild_id: int | None
    actor_id: int | None
    action: str
    target: str
    detail: str
    created_at: datetime


async def record(
    session: AsyncSession, *, guild_id: int | None, actor_id: int | None, action: str, target: str, detail: str = ""
) -> None:
    session.add(AuditRow(guild_id=guild_id, actor_id=actor_id, action=action, target=target, detail=detail))
    await session.flush()


async def recent(session: AsyncSession, guild_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if guild_id is not None:
        query = query.where(AuditRow.guild_id == guild_id)
    return [
        AuditEntry(r.guild_id, r.actor_id, r.action, r.target, r.detail, r.created_at)
        for r in await session.scalars(query)
    ]
