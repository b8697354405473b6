"""Per-user cooldowns: in memory for one process, or in the database for processes sharing PostgreSQL."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.db import cooldowns
from bot.db.database import Database
from bot.errors import BusyError


def _slow_down(wait: float) -> BusyError:
    return BusyError(f"Slow down a little: you can ask again in {max(1, math.ceil(wait))} s.")


class Cooldowns:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._last: dict[int, float] = {}

    async def check(self, user_id: int) -> None:
        """Raise BusyError saying when to come back; otherwise start the user's cooldown now."""
        now = self._clock()
        wait = self._last.get(user_id, -math.inf) + self.seconds - now
        if wait > 0:
            raise _slow_down(wait)
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}


class SharedCooldowns:
    """The same cooldown, held in the database so that every process of a sharded bot honours it.

    One statement decides atomically: it starts the cooldown only if the last one is over, so two processes asked
    by one user at the same instant cannot both say yes.
    """

    def __init__(self, db: Database, seconds: float) -> None:
        self.db, self.seconds = db, seconds

    async def check(self, user_id: int) -> None:
        if self.seconds <= 0:
            return
        now = datetime.now(UTC)
        async with self.db.writes.begin() as session:
            started = await cooldowns.start_if_over(session, user_id, now, timedelta(seconds=self.seconds))
            if started:
                return
            last = await cooldowns.last(session, user_id)
        raise _slow_down(self.seconds - (now - last).total_seconds() if last is not None else self.seconds)
