"""Retention: how much history a channel keeps, trimmed in the background after its answers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.db import history
from bot.db.database import Database
from bot.errors import BotError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    max_turns: int = 500
    max_age: timedelta = timedelta(days=90)


class RetentionPasses:
    """Trims a channel after its answers, one pass per channel at a time: a burst of answers in one channel runs two
    passes, not one per answer (each is a write, and under a burst the store is the bottleneck)."""

    def __init__(self, db: Database, retention: Retention) -> None:
        self.db, self.retention = db, retention
        self._background: set[asyncio.Task[None]] = set()
        self._pruning: dict[int, bool] = {}  # channels being pruned -> whether answers finished there since

    def after_answer(self, channel_id: int) -> None:
        if channel_id in self._pruning:
            self._pruning[channel_id] = True  # once more when the running pass is done
            return
        self._pruning[channel_id] = False
        task = asyncio.create_task(self._passes(channel_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _passes(self, channel_id: int) -> None:
        try:
            again = True
            while again:
                self._pruning[channel_id] = False
                try:
                    await self.prune(channel_id)
                except BotError:  # busy: the next answer's pass catches up
                    log.warning("Retention skipped for channel %d this time: the store is busy", channel_id)
                except Exception:  # a background pass must never take anything down with it
                    log.exception("Retention failed for channel %d", channel_id)
                again = self._pruning[channel_id]
        finally:
            del self._pruning[channel_id]

    async def prune(self, channel_id: int) -> int:
        async with self.db.writes.begin() as session:
            removed = await history.prune_channel(session, channel_id, self.retention.max_turns, self.retention.max_age)
        if removed:
            log.info("Retention removed %d old turns from channel %d", removed, channel_id)
        return removed

    async def drain(self) -> None:
        """Wait for background retention work (shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
