"""Daily quotas: refused at exactly the limit, and a day is the UTC day the refusal names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.models import UsageRow
from bot.services.usage import QuotaError, UsageService

NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # half an hour into the UTC day


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    yield opened
    await opened.close()


async def spent(db: Database, tokens: int, at: datetime) -> None:
    async with db.writes.begin() as session:
        row = UsageRow(guild_id=5, channel_id=55, user_id=1, model="m", prompt_tokens=tokens, completion_tokens=0)
        row.created_at = at
        session.add(row)


async def test_the_quota_refuses_at_exactly_its_limit_and_not_before(db: Database) -> None:
    usage = UsageService(db, member_daily_tokens=100, clock=lambda: NOW)
    await spent(db, 99, datetime(2026, 12, 2, 0, 5, tzinfo=UTC))
    await usage.check(5, 1)  # one token left: still answered
    await spent(db, 1, datetime(2026, 12, 2, 0, 10, tzinfo=UTC))
    with pytest.raises(QuotaError) as refused:
        await usage.check(5, 1)
    assert refused.value.user_message == (
        "You've used your 100 tokens for today here. Your quota resets at 00:00 UTC (in 23 h 30 min)."
    )


async def test_a_day_is_the_utc_day_not_the_last_24_hours(db: Database) -> None:
    usage = UsageService(db, member_daily_tokens=100, server_daily_tokens=150, clock=lambda: NOW)
    await spent(db, 500, datetime(2026, 12, 1, 23, 50, tzinfo=UTC))  # forty minutes ago, but yesterday
    await usage.check(5, 1)
    report = await usage.report(1, 5, admin=False)
    assert (report.today.tokens, report.month.tokens) == (0, 500)
