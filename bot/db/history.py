"""Conversation turns per channel: the only place that queries the `turns` table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, column, delete, func, literal_column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import TurnRow, utcnow
from bot.domain import AnswerStatus, Turn


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
        message_ids=row.message_ids,
        owner=row.owner,
        tools_used=row.tools_used,
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
    owner: str | None = None,
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
        owner=owner,
    )
    session.add(row)
    await session.flush()
    return _turn(row)


_TURN_COLUMNS = [getattr(TurnRow, f.name) for f in fields(Turn)]


async def recent_turns(session: AsyncSession, channel_id: int, limit: int, before_id: int | None = None) -> list[Turn]:
    """The newest `limit` finished turns of a channel (before `before_id` if given), oldest first.

    Answers still streaming are left out: they are nobody's context yet. Plain rows, not ORM objects: this is the
    hot path of every answer.
    """
    query = select(*_TURN_COLUMNS).where(TurnRow.channel_id == channel_id, TurnRow.status != AnswerStatus.STREAMING)
    if before_id is not None:
        query = query.where(TurnRow.id < before_id)
    query = query.order_by(TurnRow.id.desc()).limit(limit)
    rows = (await session.execute(query)).all()
    return [Turn(*row) for row in reversed(rows)]


async def delete_turn(session: AsyncSession, turn_id: int) -> bool:
    result = await session.execute(delete(TurnRow).where(TurnRow.id == turn_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_turn(session: AsyncSession, turn_id: int) -> Turn | None:
    row = await session.get(TurnRow, turn_id)
    return _turn(row) if row is not None else None


async def update_turn(session: AsyncSession, turn_id: int, **values: Any) -> None:
    """Change stored fields of one turn (an answer's text and status when it ends, its message ids)."""
    await session.execute(update(TurnRow).where(TurnRow.id == turn_id).values(**values))


async def in_flight(session: AsyncSession) -> list[Turn]:
    """Answers recorded as streaming: after a crash, the ones the dead process left behind."""
    rows = await session.scalars(select(TurnRow).where(TurnRow.status == AnswerStatus.STREAMING).order_by(TurnRow.id))
    return [_turn(row) for row in rows]


async def clear_channel(session: AsyncSession, channel_id: int) -> int:
    result = await session.execute(delete(TurnRow).where(TurnRow.channel_id == channel_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


RETENTION_LOCK = 0x6866_7274  # with the channel id: one process prunes a channel at a time


async def prune_channel(session: AsyncSession, channel_id: int, max_turns: int, max_age: timedelta) -> int:
    """Delete turns beyond the newest `max_turns` and those older than `max_age`.

    On PostgreSQL shared by several processes, the one that gets the channel's advisory lock prunes it; the others
    skip it (it is being done) instead of queueing behind the same delete.
    """
    if session.get_bind().dialect.name == "postgresql":
        got = await session.scalar(
            select(func.pg_try_advisory_xact_lock(RETENTION_LOCK, func.hashtext(str(channel_id))))
        )
        if not got:
            return 0
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


SEARCH_MIN_CHARS = 3  # shorter words ("a", "we", "is") match nearly every turn and say nothing
SEARCH_MAX_WORDS = 8
_WORD = re.compile(r"\w+")


def search_words(query: str) -> list[str]:
    """The words of a search, lower-cased and deduplicated: letters and digits only, so no search syntax of either
    database's can be smuggled in."""
    words = [w.lower() for w in _WORD.findall(query) if len(w) >= SEARCH_MIN_CHARS]
    return list(dict.fromkeys(words))[:SEARCH_MAX_WORDS]


SEARCH_CANDIDATES = 50  # the newest matching turns considered; ranking every match of a busy channel is too slow


async def search_turns(
    session: AsyncSession, channel_id: int, query: str, limit: int, skip: Sequence[int] = ()
) -> list[Turn]:
    """Finished turns of one channel (or thread) matching any word of `query`: of the newest matches, those with the
    most of its words first, then the newest. `skip` leaves out turns the caller already has (the model's context)."""
    words = search_words(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # English stems, as SQLite's porter tokenizer: "shipping" finds "ships" (stop words match nothing).
        vector = func.to_tsvector(literal_column("'english'"), TurnRow.content)
        tsquery = func.to_tsquery(literal_column("'english'"), " | ".join(words))
        query_ = select(*_TURN_COLUMNS).where(vector.op("@@")(tsquery))
    else:
        # Whole (stemmed) words, not prefixes: a prefix query merges every matching term of every channel first.
        fts = f"place:c{int(channel_id)} AND (" + " OR ".join(f'"{w}"' for w in words) + ")"
        # Newest first inside FTS5 itself, so it stops after enough matches instead of collecting them all.
        hits = text(
            "SELECT rowid AS id FROM turns_fts WHERE turns_fts MATCH :fts ORDER BY rowid DESC LIMIT :wanted"
        ).bindparams(fts=fts, wanted=SEARCH_CANDIDATES + len(skip))
        found = hits.columns(column("id", Integer)).subquery("hits")
        query_ = select(*_TURN_COLUMNS).join(found, found.c.id == TurnRow.id)
    query_ = query_.where(TurnRow.channel_id == channel_id, TurnRow.status != AnswerStatus.STREAMING)
    if skip:
        query_ = query_.where(TurnRow.id.not_in(list(skip)))
    rows = (await session.execute(query_.order_by(TurnRow.id.desc()).limit(SEARCH_CANDIDATES))).all()
    turns = [Turn(*row) for row in rows]
    return sorted(turns, key=lambda t: -_matched(t.content, words))[:limit]  # stable: newest first among equals


def _matched(content: str, words: Sequence[str]) -> int:
    lowered = content.lower()
    return sum(1 for word in words if word[:5] in lowered)  # a word's stem, roughly: "decided" counts for "decide"
