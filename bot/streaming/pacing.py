"""Pacing of message creates and edits, learned from Discord's rate-limit headers.

A `Lane` is one place answers are written through: a channel (replies and their edits), or one interaction's
webhook token (a slash command's response and follow-ups). It keeps one budget per kind of request (create, edit),
spaces requests evenly inside each and hands turns round-robin to every answer writing there, so no answer freezes
while another hogs the lane and discord.py never has to sleep on an empty bucket.

Until a header has been seen, creates and edits share one conservative budget of 5 per 5 s. Once Discord has
announced a kind's bucket (`X-RateLimit-Limit`, `-Remaining`, `-Reset-After`), that kind gets its own budget of the
announced size. (Discord reports creates and edits under one bucket id, so discord.py's own limiter merges them and
sleeps briefly when either runs dry; measured in `bench/discord_streaming.py`, using every request still wins.)

An answer's first message and a finished answer's final text are urgent: they go to the front of the line, and
urgency is looked at again every time a waiter wakes, so a renderer already waiting when its model finishes moves
up. A 429 pauses the lane (scope user) or, for Discord's hidden per-channel sub-limit (scope shared), the whole
channel. That sub-limit is never announced, so while several slash-command answers stream in one channel they are
paced together within the channel's message budget (creates and edits, 10 per 5 s) from the start, and after a
shared 429 within an estimate of the sub-limit learned from what got through.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from bot.ops import metrics

Sleep = Callable[[float], Awaitable[None]]

# Tunables.
REQUESTS_PER_WINDOW = 5  # the conservative budget before Discord has announced one
WINDOW_SECONDS = 5.0
SAFETY_SECONDS = 0.25  # clock skew and network latency between us and Discord's bucket
RESERVE_UP_TO_STREAMS = 2  # with this many answers or fewer, keep a request per window for urgent ones
MIN_SPACING_SECONDS = 1.0  # progress edits faster than this help no reader and crowd Discord's hidden limits
POLL_SECONDS = 0.25  # waiters look again at the line (and at their own urgency) at least this often
CROWDED_SECONDS = 60.0  # after a shared-scope 429, a channel's interaction lanes also count against the channel
MAX_INTERACTION_LANES = 2000  # interaction tokens live 15 minutes; older lanes are forgotten


class Kind(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    SHARED = "shared"  # a channel's interaction requests together, under its hidden sub-limit


@dataclass
class Budget:
    limit: int
    window: float
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0

    def slot(self, urgent: bool, reserve: bool) -> float:
        """The earliest instant this budget allows another request."""
        capacity = max(1, self.limit - 1 if reserve and not urgent else self.limit)
        at = self.blocked_until
        if self.sent and not urgent:
            at = max(at, self.sent[-1] + max(MIN_SPACING_SECONDS, (self.window + SAFETY_SECONDS) / capacity))
        if len(self.sent) >= capacity:
            at = max(at, self.sent[-capacity] + self.window + SAFETY_SECONDS)
        return at

    def take(self, now: float) -> None:
        self.sent.append(now)
        while len(self.sent) > max(self.limit, REQUESTS_PER_WINDOW):
            self.sent.popleft()


@dataclass(eq=False)
class _Waiter:
    seq: int
    kind: Callable[[], Kind]
    urgent: Callable[[], bool]


class Lane:
    def __init__(
        self, clock: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep, channel: Lane | None = None
    ) -> None:
        # The event loop's clock by default: the one its sleeps (and any test harness that virtualises time) use.
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep
        self.channel = channel  # for an interaction lane: the channel it writes into
        self._default = Budget(REQUESTS_PER_WINDOW, WINDOW_SECONDS)  # creates and edits together, before headers
        self._learned: dict[Kind, Budget] = {}
        self._blocked_until = 0.0
        self._crowded_until = 0.0
        # A channel's interaction answers together: before Discord's hidden sub-limit shows, the channel's whole
        # message budget (creates and edits); after a shared-scope 429, an estimate of the sub-limit.
        self._shared: Budget | None = None
        self._prior = Budget(2 * REQUESTS_PER_WINDOW, WINDOW_SECONDS)
        self._interaction_streams = 0
        self._interactions_sent: deque[float] = deque(maxlen=64)
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self.streams = 0  # answers currently writing through this lane

    @contextmanager
    def streaming(self) -> Iterator[None]:
        lanes = [self] if self.channel is None else [self, self.channel]  # a channel counts its interactions too
        for lane in lanes:
            lane.streams += 1
        if self.channel is not None:
            self.channel._interaction_streams += 1
        try:
            yield
        finally:
            for lane in lanes:
                lane.streams -= 1
            if self.channel is not None:
                self.channel._interaction_streams -= 1

    def has_own_budget(self, kind: Kind) -> bool:
        """Whether this kind's requests compete with no other answer's: an interaction's webhook is its own, and a
        channel's kind is once Discord announced its bucket (before that, creates and edits share one budget)."""
        return self.channel is not None or kind in self._learned

    def _budget(self, kind: Kind) -> Budget:
        if kind is Kind.SHARED:
            return self._shared or self._prior
        return self._learned.get(kind, self._default)

    def crowded(self) -> bool:
        """Whether this channel's interaction answers are paced together: several stream here at once, or
        Discord recently answered one of them with a shared-scope 429."""
        return self._interaction_streams >= 2 or self._clock() < self._crowded_until

    def next_slot(self, kind: Kind = Kind.EDIT, urgent: bool = False) -> float:
        """The earliest instant the next request of this kind may go out."""
        reserve = self.streams <= RESERVE_UP_TO_STREAMS
        at = max(self._blocked_until, self.channel._blocked_until if self.channel is not None else 0.0)
        return max(at, self._budget(kind).slot(urgent, reserve))

    async def acquire(
        self, kind: Callable[[], Kind] = lambda: Kind.EDIT, urgent: Callable[[], bool] = lambda: False
    ) -> None:
        """Wait for this caller's turn; the request must be sent right after, without awaiting in between.

        `kind` and `urgent` are asked again each time the line is looked at: what an answer needs next, and how
        badly, changes while it waits. Only plain sleeps, so a harness that virtualises the clock drives this.
        """
        started = self._clock()
        await self._wait_in_line(kind, urgent)
        channel = self.channel
        if channel is not None and channel.crowded():  # then every interaction there also waits in the channel's line
            await channel._wait_in_line(lambda: Kind.SHARED, urgent)
        metrics.pacer_wait.observe(max(0.0, self._clock() - started))

    async def _wait_in_line(self, kind: Callable[[], Kind], urgent: Callable[[], bool]) -> None:
        me = _Waiter(next(self._seq), kind, urgent)
        self._waiters.append(me)
        try:
            while True:
                delay = self._my_turn(me)
                if delay is None:
                    return
                await self.sleep(min(delay, POLL_SECONDS) if delay > 0 else POLL_SECONDS)
        finally:
            if me in self._waiters:
                self._waiters.remove(me)

    def _my_turn(self, me: _Waiter) -> float | None:
        """None when `me` takes the slot now; otherwise how long to sleep before looking again."""
        now = self._clock()
        line = sorted(self._waiters, key=lambda w: (not w.urgent(), w.seq))
        claimed: set[int] = set()
        for waiter in line:
            kind = waiter.kind()
            budget = self._budget(kind)
            if id(budget) in claimed:
                continue  # round-robin: only the first in line for each budget may take its slot
            claimed.add(id(budget))
            if waiter is me:
                delay = self.next_slot(kind, me.urgent()) - now
                if delay <= 0:
                    self._waiters.remove(me)
                    budget.take(now)
                    return None
                return delay
        return POLL_SECONDS

    def learn(self, kind: Kind, limit: int, remaining: int, reset_after: float) -> None:
        """Discord's headers for a request of this kind on this lane."""
        now = self._clock()
        budget = self._learned.get(kind)
        if budget is None:
            fresh = remaining == limit - 1  # the first request of a window: its reset is the window's length
            budget = Budget(limit, reset_after if fresh else max(reset_after, WINDOW_SECONDS))
            budget.sent.extend(list(self._default.sent)[-max(0, limit - remaining) :] if limit > remaining else [])
            self._learned[kind] = budget
        budget.limit = limit
        budget.window = max(budget.window, reset_after)
        if self.channel is not None:
            self.channel._interactions_sent.append(now)
        if remaining <= 0:
            budget.blocked_until = max(budget.blocked_until, now + reset_after)

    def penalize(self, retry_after: float) -> None:
        """Discord said 429: nothing goes out on this lane until `retry_after` has passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + retry_after)

    def penalize_shared(self, retry_after: float) -> None:
        """A 429 of the hidden per-channel sub-limit: hold the channel and pace its interactions together.

        The sub-limit is not announced, so it is estimated from what got through before the 429: the interaction
        requests of the last window, less one, never under the conservative budget.
        """
        channel = self.channel or self
        now = channel._clock()
        channel.penalize(retry_after)
        got_through = sum(1 for t in channel._interactions_sent if now - t < WINDOW_SECONDS)
        limit = max(REQUESTS_PER_WINDOW, got_through - 1)
        if channel._shared is None or limit < channel._shared.limit or channel._clock() >= channel._crowded_until:
            channel._shared = Budget(limit, WINDOW_SECONDS)
        channel._crowded_until = now + CROWDED_SECONDS


class PacerRegistry:
    """One lane per channel and per interaction answered, created on first use."""

    def __init__(self, clock: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._channels: dict[int, Lane] = {}
        self._interactions: OrderedDict[str, Lane] = OrderedDict()

    def for_channel(self, channel_id: int) -> Lane:
        if channel_id not in self._channels:
            self._channels[channel_id] = Lane(self._clock, self._sleep)
        return self._channels[channel_id]

    def for_interaction(self, token: str, channel_id: int) -> Lane:
        """The lane of an interaction's webhook (its token is a secret: kept in memory, never logged)."""
        lane = self._interactions.get(token)
        if lane is None:
            lane = self._interactions[token] = Lane(self._clock, self._sleep, self.for_channel(channel_id))
            while len(self._interactions) > MAX_INTERACTION_LANES:
                self._interactions.popitem(last=False)
        return lane

    def interaction(self, token: str) -> Lane | None:
        return self._interactions.get(token)
