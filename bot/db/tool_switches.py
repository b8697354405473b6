"""Which tools a server turned off or back on: the only place that queries `tool_switches`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ToolSwitchRow


async def switches(session: AsyncSession, guild_id: int) -> dict[str, bool]:
    rows = await session.scalars(select(ToolSwitchRow).where(ToolSwitchRow.guild_id == guild_id))
    return {row.tool: row.enabled for row in rows}


async def set_switch(session: AsyncSession, guild_id: int, tool: str, enabled: bool, actor_id: int | None) -> None:
    query = select(ToolSwitchRow).where(ToolSwitchRow.guild_id == guild_id, ToolSwitchRow.tool == tool)
    row = await session.scalar(query)
    if row is None:
        try:
            async with session.begin_nested():  # two admins at once: the loser updates the winner's row
                row = ToolSwitchRow(guild_id=guild_id, tool=tool, enabled=enabled, updated_by=actor_id)
                session.add(row)
                await session.flush()
            return
        except IntegrityError:
            row = await session.scalar(query)
            assert row is not None
    row.enabled, row.updated_by = enabled, actor_id
    await session.flush()
