"""Abuse limits: a per-user cooldown and a per-guild cap on answers generated at once, with a bounded queue."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.errors import BusyError

QUEUE_PER_SLOT = 2  # waiting answers allowed per running one before the guild is "full"


class Cooldowns:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._last: dict[int, float] = {}

    def check(self, user_id: int) -> None:
        """Raise BusyError saying when to come back; otherwise start the user's cooldown now."""
        now = self._clock()
        wait = self._last.get(user_id, -math.inf) + self.seconds - now
        if wait > 0:
            raise BusyError(f"Slow down a little: you can ask again in {math.ceil(wait)} s.")
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}


class GuildGate:
    """At most `limit` answers generate at once per guild; a few more may wait; beyond that, say so at once."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._semaphores: dict[int | None, asyncio.Semaphore] = {}
        self._queued: dict[int | None, int] = {}

    def would_wait(self, guild_id: int | None) -> bool:
        """Whether an answer admitted now would queue behind others in this guild."""
        semaphore = self._semaphores.get(guild_id)
        return semaphore is not None and semaphore.locked()

    def check(self, guild_id: int | None) -> None:
        """Raise BusyError now when the queue is full (call before acknowledging, so the user hears at once)."""
        semaphore = self._semaphores.setdefault(guild_id, asyncio.Semaphore(self.limit))
        if semaphore.locked() and self._queued.get(guild_id, 0) >= self.limit * QUEUE_PER_SLOT:
            raise BusyError("I'm answering as many questions here as I can right now. Please try again in a minute.")

    @asynccontextmanager
    async def slot(self, guild_id: int | None) -> AsyncIterator[None]:
        self.check(guild_id)
        semaphore = self._semaphores[guild_id]
        self._queued[guild_id] = self._queued.get(guild_id, 0) + 1
        try:
            await semaphore.acquire()
        finally:
            self._queued[guild_id] -= 1
        try:
            yield
        finally:
            semaphore.release()
