"""Acknowledgements first: in a burst, Discord's 3 s deadline for each acknowledgement beats every other step."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

ACK_PRIORITY_SECONDS = 1.0  # the longest an acknowledged answer waits for a burst's other acknowledgements


class AcknowledgementsFirst:
    """Acknowledgements go before every other step of a burst.

    Each acknowledgement has a 3 s deadline and costs little; everything after it (store reads, generation, edits)
    has none. While acknowledgements are on their way, answers already acknowledged wait for them to be sent (at most
    `ACK_PRIORITY_SECONDS`, so a steady stream of questions cannot starve answers), which keeps the event loop free
    for the acknowledgements of a burst.
    """

    def __init__(self) -> None:
        self._pending = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @asynccontextmanager
    async def acknowledging(self) -> AsyncIterator[None]:
        self._pending += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._pending -= 1
            if self._pending == 0:
                self._quiet.set()

    async def settled(self) -> None:
        if self._pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ACK_PRIORITY_SECONDS):
                    await self._quiet.wait()
