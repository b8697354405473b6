"""Members who opted out of being listened to, per guild."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ListenOptOutRow


async def set_opt_out(session: AsyncSession, guild_id: int, user_id: int, out: bool) -> None:
    row = await session.get(ListenOptOutRow, (guild_id, user_id))
    if out and row is None:
        session.add(ListenOptOutRow(guild_id=guild_id, user_id=user_id))
    elif not out:
        await session.execute(
            delete(ListenOptOutRow).where(ListenOptOutRow.guild_id == guild_id, ListenOptOutRow.user_id == user_id)
        )
    await session.flush()


async def opted_out(session: AsyncSession, guild_id: int) -> set[int]:
    rows = await session.scalars(select(ListenOptOutRow.user_id).where(ListenOptOutRow.guild_id == guild_id))
    return set(rows)
