"""Abuse limits: a per-guild cap on answers generated at once with a bounded queue, and the cooldown a user waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from bot.errors import BusyError

QUEUE_PER_SLOT = 2  # waiting answers allowed per running one before the guild is "full"


class Cooldown(Protocol):
    async def check(self, user_id: int) -> None:
        """Raise BusyError saying when to come back; otherwise start the user's cooldown now."""


@dataclass(eq=False)
class Ticket:
    """A place in a guild's line, taken when a question is admitted and given back when its answer is done."""

    guild_id: int | None
    waits: bool  # whether it was admitted behind others (so the asker is told it is in line)
    held: bool = True


class GuildGate:
    """At most `limit` answers generate at once per guild; a few more may wait; beyond that, say so at once.

    A question takes its place in line when it is admitted, before anything is awaited: a burst of questions
    arriving together is counted as it arrives, so the ones past the line are refused with the interaction's own
    response instead of after a public "thinking…" that then needs cleaning up.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._semaphores: dict[int | None, asyncio.Semaphore] = {}
        self._admitted: dict[int | None, int] = {}
        self._inside = 0  # answers holding a slot, over all guilds

    def admit(self, guild_id: int | None) -> Ticket:
        """Take a place in line, or raise BusyError when the line is full."""
        admitted = self._admitted.get(guild_id, 0)
        if admitted >= self.limit * (1 + QUEUE_PER_SLOT):
            raise BusyError("I'm answering as many questions here as I can right now. Please try again in a minute.")
        self._admitted[guild_id] = admitted + 1
        self._semaphores.setdefault(guild_id, asyncio.Semaphore(self.limit))
        return Ticket(guild_id, waits=admitted >= self.limit)

    def waiting(self) -> int:
        """Questions admitted and waiting for a slot, over all guilds."""
        return sum(self._admitted.values()) - self._inside

    def release(self, ticket: Ticket) -> None:
        if ticket.held:
            ticket.held = False
            self._admitted[ticket.guild_id] -= 1

    @asynccontextmanager
    async def slot(self, ticket: Ticket) -> AsyncIterator[None]:
        """Wait for the ticket's turn and hold a generation slot; the place in line is given back afterwards."""
        semaphore = self._semaphores[ticket.guild_id]
        try:
            async with semaphore:
                self._inside += 1
                try:
                    yield
                finally:
                    self._inside -= 1
        finally:
            self.release(ticket)
