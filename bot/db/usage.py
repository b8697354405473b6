"""Usage rows (tokens per answer) and daily quotas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import QuotaRow, UsageRow


async def record(
    session: AsyncSession,
    *,
    guild_id: int | None,
    channel_id: int,
    user_id: int | None,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> None:
    session.add(
        UsageRow(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    )


async def totals(
    session: AsyncSession, since: datetime, *, user_id: int | None = None, guild_id: int | None = None
) -> tuple[int, int, int]:
    """(answers, prompt tokens, completion tokens) since `since`, for a user and/or a server."""
    query = select(
        func.count(UsageRow.id),
        func.coalesce(func.sum(UsageRow.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRow.completion_tokens), 0),
    ).where(UsageRow.created_at >= since)
    if user_id is not None:
        query = query.where(UsageRow.user_id == user_id)
    if guild_id is not None:
        query = query.where(UsageRow.guild_id == guild_id)
    count, prompt, completion = (await session.execute(query)).one()
    return int(count), int(prompt), int(completion)


async def top(
    session: AsyncSession, guild_id: int, since: datetime, by: str, limit: int = 5
) -> list[tuple[object, int]]:
    """A server's biggest users (`by="user"`) or models (`by="model"`) by tokens since `since`."""
    column = UsageRow.user_id if by == "user" else UsageRow.model
    spent = func.sum(UsageRow.prompt_tokens + UsageRow.completion_tokens)
    query = (
        select(column, spent)
        .where(UsageRow.guild_id == guild_id, UsageRow.created_at >= since)
        .group_by(column)
        .order_by(spent.desc())
        .limit(limit)
    )
    return [(key, int(total)) for key, total in (await session.execute(query)).all()]


async def quotas(session: AsyncSession, guild_id: int) -> dict[str, int]:
    """A server's own quotas by subject ("member", "server"); a subject it never set is absent."""
    rows = await session.execute(select(QuotaRow.subject, QuotaRow.daily_tokens).where(QuotaRow.guild_id == guild_id))
    return {subject: tokens for subject, tokens in rows.all()}


async def set_quota(session: AsyncSession, guild_id: int, subject: str, daily_tokens: int, actor_id: int) -> None:
    row = await session.scalar(select(QuotaRow).where(QuotaRow.guild_id == guild_id, QuotaRow.subject == subject))
    if row is None:
        session.add(QuotaRow(guild_id=guild_id, subject=subject, daily_tokens=daily_tokens, updated_by=actor_id))
    else:
        row.daily_tokens, row.updated_by = daily_tokens, actor_id
