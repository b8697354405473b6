"""Where a thread came from, read from the store: the question and the answer shown in the thread's starter message."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import TurnRow
from bot.domain import AnswerStatus


async def answer_shown_in(session: AsyncSession, channel_id: int, message_id: int) -> tuple[TurnRow, TurnRow] | None:
    """(question, answer) when `message_id` shows one of the channel's recent answers, else None.

    An answer records its messages as "channel:message,…", so the id is matched as a whole item of that list.
    """
    item = f"{channel_id}:{message_id}"
    ids = TurnRow.message_ids
    answer = await session.scalar(
        select(TurnRow)
        .where(
            TurnRow.channel_id == channel_id,
            TurnRow.role == "assistant",
            TurnRow.status != AnswerStatus.STREAMING,
            or_(ids == item, ids.like(f"{item},%"), ids.like(f"%,{item}"), ids.like(f"%,{item},%")),
        )
        .order_by(TurnRow.id.desc())
        .limit(1)
    )
    if answer is None:
        return None
    question = await session.scalar(
        select(TurnRow)
        .where(TurnRow.channel_id == channel_id, TurnRow.role == "user", TurnRow.id < answer.id)
        .order_by(TurnRow.id.desc())
        .limit(1)
    )
    return (question, answer) if question is not None else None


async def remembers(session: AsyncSession, channel_id: int, text: str) -> bool:
    """Whether the channel's memory holds a question that starts with `text` (it is already in the context)."""
    found = await session.scalar(
        select(TurnRow.id)
        .where(
            TurnRow.channel_id == channel_id,
            TurnRow.role == "user",
            func.substr(TurnRow.content, 1, len(text)) == text,
        )
        .limit(1)
    )
    return found is not None
