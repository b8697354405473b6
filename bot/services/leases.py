"""Which process answers what: each process holds a lease, and answers it leaves streaming are found by owner.

A process restarted with the same shards (`owner_key`) knows at once that the answers its previous instance left
streaming are its own leftovers. A process that never comes back stops renewing its lease; once the lease has
lapsed, another process takes its leftovers over. Either way, answers another live process is streaming right now
are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime

from bot.db import leases
from bot.db.database import Database

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0  # a process that has not renewed its lease for this long is gone
RENEWALS_PER_LEASE = 6  # so a few slow renewals (a busy loop, a slow database) never lose a live process its lease


class ProcessLease:
    def __init__(self, db: Database, owner_key: str, lease_seconds: float = LEASE_SECONDS) -> None:
        self.db, self.owner_key, self.lease_seconds = db, owner_key, lease_seconds
        self.instance = uuid.uuid4().hex
        self._renewing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self.db.writes.begin() as session:
            await leases.register(session, self.instance, self.owner_key, datetime.now(UTC))
        self._renewing = asyncio.create_task(self._renew_forever())
        log.info("Process %s (%s) holds its lease", self.instance[:8], self.owner_key)

    async def close(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
        try:
            async with self.db.writes.begin() as session:
                await leases.release(session, self.instance)
        except Exception:  # its lease lapses by itself
            log.warning("Could not release this process's lease", exc_info=True)

    async def leftovers(self, take_over_others: bool = True) -> set[int]:
        """The ids of answers left streaming by a gone process, now this process's to mark interrupted: its own
        previous instance's, and (`take_over_others`) those of any process whose lease lapsed or who holds none."""
        now = datetime.now(UTC)
        lapsed = leases.lapse(now, self.lease_seconds) if take_over_others else None
        async with self.db.writes.begin() as session:
            gone = await leases.end_gone(session, self.instance, self.owner_key, lapsed)
            taken = await leases.take_over(session, self.instance, gone, orphans=take_over_others)
        if gone:
            log.info("Processes gone: %s; taking over %d answers they left", ", ".join(g[:8] for g in gone), len(taken))
        return set(taken)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / RENEWALS_PER_LEASE)
            try:
                async with self.db.writes.begin() as session:
                    held = await leases.renew(session, self.instance, datetime.now(UTC))
                    if not held:  # taken for dead while alive (a long stall): hold a lease again
                        log.warning("This process's lease had lapsed; registering again")
                        await leases.register(session, self.instance, self.owner_key, datetime.now(UTC))
            except Exception:
                log.warning("Could not renew this process's lease; trying again", exc_info=True)
