"""Per-channel pacing of message creates and edits.

Discord allows about 5 message creates/edits per 5 seconds per channel. One `ChannelPacer` per channel spaces
requests evenly inside that budget and hands turns round-robin to every answer streaming there, so no answer
freezes while another hogs the channel and discord.py never has to sleep on an empty bucket. A final edit (the
model finished) goes to the front of the line. A 429 pauses the channel for its `retry_after`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

Sleep = Callable[[float], Awaitable[None]]

# Tunables.
REQUESTS_PER_WINDOW = 5
WINDOW_SECONDS = 5.0
SAFETY_SECONDS = 0.25  # clock skew and network latency between us and Discord's bucket
RESERVE_UP_TO_STREAMS = 2  # with this many answers or fewer, keep a request per window for final edits
FOLLOWER_POLL_SECONDS = 0.01  # waiters behind the head re-check just after each slot


class ChannelPacer:
    def __init__(self, clock: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep) -> None:
        # The event loop's clock by default: the one its sleeps (and any test harness that virtualises time) use.
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep
        self._sent: deque[float] = deque(maxlen=REQUESTS_PER_WINDOW)
        self._waiters: deque[tuple[object, bool]] = deque()
        self._blocked_until = 0.0
        self.streams = 0  # answers currently streaming in this channel

    @contextmanager
    def streaming(self) -> Iterator[None]:
        self.streams += 1
        try:
            yield
        finally:
            self.streams -= 1

    def next_slot(self, urgent: bool = False) -> float:
        """The earliest instant the next request may go out.

        While few answers stream here, ordinary edits leave one request of every window free, so a finished
        answer's final edit goes out at once instead of waiting its turn. A crowded channel uses the whole budget.
        """
        capacity = REQUESTS_PER_WINDOW if urgent or self.streams > RESERVE_UP_TO_STREAMS else REQUESTS_PER_WINDOW - 1
        at = self._blocked_until
        if self._sent and not urgent:
            at = max(at, self._sent[-1] + (WINDOW_SECONDS + SAFETY_SECONDS) / capacity)
        if len(self._sent) >= capacity:
            at = max(at, self._sent[-capacity] + WINDOW_SECONDS + SAFETY_SECONDS)
        return at

    async def acquire(self, urgent: bool = False) -> None:
        """Wait for this caller's turn; the request must be sent right after.

        Every waiter sleeps in its own task until the next slot, and the one at the head of the line takes it:
        only plain sleeps, so a harness that virtualises the loop's clock drives this like any other wait.
        """
        entry = (object(), urgent)
        if urgent:
            self._waiters.appendleft(entry)
        else:
            self._waiters.append(entry)
        try:
            while True:
                head = self._waiters[0]
                delay = self.next_slot(head[1]) - self._clock()
                if head is entry and delay <= 0:
                    self._waiters.popleft()
                    self._sent.append(self._clock())
                    return
                await self.sleep(delay if head is entry else max(delay, 0.0) + FOLLOWER_POLL_SECONDS)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def observe(self, remaining: int, reset_after: float) -> None:
        """Discord's rate-limit headers: with nothing left in its bucket, wait for the reset it announces."""
        if remaining <= 0:
            self._blocked_until = max(self._blocked_until, self._clock() + reset_after)

    def penalize(self, retry_after: float) -> None:
        """Discord said 429: nothing goes out on this channel until `retry_after` has passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + retry_after)


class PacerRegistry:
    """One pacer per channel, created on first use."""

    def __init__(self, clock: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._pacers: dict[int, ChannelPacer] = {}

    def for_channel(self, channel_id: int) -> ChannelPacer:
        if channel_id not in self._pacers:
            self._pacers[channel_id] = ChannelPacer(self._clock, self._sleep)
        return self._pacers[channel_id]
