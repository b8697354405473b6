"""Token usage per answer, and the daily quotas server admins set on it.

A day is a UTC day: quotas reset at 00:00 UTC, the same instant for everyone, which is what the refusal says.
Usage is kept in its own table, so clearing a channel's memory or retention never gives tokens back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.db import audit
from bot.db import usage as repo
from bot.db.database import Database
from bot.errors import BotError

QUOTA_READ_SECONDS = 10.0  # how stale another process's view of a quota change may be

Clock = Callable[[], datetime]


class QuotaError(BotError):
    """Over a daily token quota."""


@dataclass(frozen=True, slots=True)
class Spent:
    answers: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class UsageReport:
    today: Spent
    month: Spent
    server_today: Spent | None = None
    top_users: list[tuple[object, int]] | None = None
    top_models: list[tuple[object, int]] | None = None
    member_quota: int = 0
    server_quota: int = 0


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def resets_in(now: datetime) -> str:
    left = _day_start(now) + timedelta(days=1) - now
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    return f"00:00 UTC (in {hours} h {minutes:02d} min)"


class UsageService:
    def __init__(
        self, db: Database, member_daily_tokens: int = 0, server_daily_tokens: int = 0, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.defaults = {"member": member_daily_tokens, "server": server_daily_tokens}  # 0: no quota
        self._clock = clock or (lambda: datetime.now(UTC))
        self._known: dict[int, tuple[float, dict[str, int]]] = {}  # guild -> (when read, its quotas)

    async def quotas(self, guild_id: int | None) -> dict[str, int]:
        """The quotas in force. A server's own are read at most every `QUOTA_READ_SECONDS` (every question needs
        them; they change only by an admin's command, which this process sees at once and others within that)."""
        if guild_id is None:
            return dict(self.defaults)
        now = time.monotonic()
        known = self._known.get(guild_id)
        if known is None or now - known[0] > QUOTA_READ_SECONDS:
            async with self.db.sessions() as session:
                known = (now, await repo.quotas(session, guild_id))
            self._known[guild_id] = known
            if len(self._known) > 10_000:
                self._known = {g: k for g, k in self._known.items() if now - k[0] <= QUOTA_READ_SECONDS}
        return {s: known[1].get(s, default) for s, default in self.defaults.items()}

    async def check(self, guild_id: int | None, user_id: int) -> None:
        """Raise QuotaError, saying when it resets, if the asker or the server has used up today's tokens."""
        limits = await self.quotas(guild_id)
        if not any(limits.values()):
            return
        now = self._clock()
        async with self.db.sessions() as session:
            if limits["member"]:
                _, prompt, completion = await repo.totals(session, _day_start(now), user_id=user_id, guild_id=guild_id)
                if prompt + completion >= limits["member"]:
                    raise QuotaError(
                        f"You've used your {limits['member']:,} tokens for today here. "
                        f"Your quota resets at {resets_in(now)}."
                    )
            if limits["server"] and guild_id is not None:
                _, prompt, completion = await repo.totals(session, _day_start(now), guild_id=guild_id)
                if prompt + completion >= limits["server"]:
                    raise QuotaError(
                        f"This server has used its {limits['server']:,} tokens for today. "
                        f"The quota resets at {resets_in(now)}."
                    )

    async def report(self, user_id: int, guild_id: int | None, admin: bool) -> UsageReport:
        now = self._clock()
        day, month = _day_start(now), _day_start(now).replace(day=1)
        limits = await self.quotas(guild_id)
        async with self.db.sessions() as session:
            today = Spent(*await repo.totals(session, day, user_id=user_id))
            this_month = Spent(*await repo.totals(session, month, user_id=user_id))
            if not admin or guild_id is None:
                return UsageReport(today, this_month, member_quota=limits["member"], server_quota=limits["server"])
            return UsageReport(
                today,
                this_month,
                server_today=Spent(*await repo.totals(session, day, guild_id=guild_id)),
                top_users=await repo.top(session, guild_id, month, "user"),
                top_models=await repo.top(session, guild_id, month, "model"),
                member_quota=limits["member"],
                server_quota=limits["server"],
            )

    async def set_quota(self, guild_id: int, subject: str, daily_tokens: int, actor_id: int) -> None:
        async with self.db.writes.begin() as session:
            await repo.set_quota(session, guild_id, subject, daily_tokens, actor_id)
            await audit.record(
                session, guild_id=guild_id, actor_id=actor_id, action="quota", target=subject, detail=str(daily_tokens)
            )
        self._known.pop(guild_id, None)
