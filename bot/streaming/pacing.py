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
shared 429 within an estimate of the sub-limit for that kind of request, learned from what got through.

Every request counts, not just the ones the pacer let through: the rate-limit trace reports each request as it goes
out (`Lane.sent`), so one discord.py sends by itself (its own retry after a 429, a refusal's follow-up) is counted
too, and the next window does not hold one request more than the lane believes.
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


GRANT_SECONDS = 30.0  # a request the pacer let through shows up in the trace within this long, or never will


class Kind(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    # A channel's interaction requests together, under its hidden sub-limit: each kind, and all of them.
    SHARED_CREATE = "shared create"
    SHARED_EDIT = "shared edit"
    SHARED = "shared"


SHARED_KINDS = (Kind.SHARED_CREATE, Kind.SHARED_EDIT)


def shared(kind: Kind) -> Kind:
    """The channel-wide kind an interaction's request also counts as."""
    return Kind.SHARED_CREATE if kind in (Kind.CREATE, Kind.SHARED_CREATE) else Kind.SHARED_EDIT


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
        # message budget (creates and edits); after a shared-scope 429 on one kind, an estimate of its sub-limit.
        self._shared: dict[Kind, Budget] = {}
        self._prior = Budget(2 * REQUESTS_PER_WINDOW, WINDOW_SECONDS)
        self._interaction_streams = 0
        self._interactions_through: dict[Kind, deque[float]] = {}  # interaction requests Discord accepted, by kind
        self._granted: dict[Kind, deque[float]] = {}  # let through by the pacer, not yet seen going out
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

    def _budgets(self, kind: Kind) -> list[Budget]:
        """The budgets a request of this kind must fit, the most particular first. A channel's interaction request
        fits the estimate for its kind, once a shared 429 on that kind gave one, and the estimate for all kinds."""
        if kind in SHARED_KINDS:
            together = self._shared.get(Kind.SHARED, self._prior)
            return [self._shared[kind], together] if kind in self._shared else [together]
        return [self._learned.get(kind, self._default)]

    def crowded(self) -> bool:
        """Whether this channel's interaction answers are paced together: several stream here at once, or
        Discord recently answered one of them with a shared-scope 429."""
        return self._interaction_streams >= 2 or self._clock() < self._crowded_until

    def next_slot(self, kind: Kind = Kind.EDIT, urgent: bool = False) -> float:
        """The earliest instant the next request of this kind may go out."""
        reserve = self.streams <= RESERVE_UP_TO_STREAMS
        at = max(self._blocked_until, self.channel._blocked_until if self.channel is not None else 0.0)
        return max(at, *(budget.slot(urgent, reserve) for budget in self._budgets(kind)))

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
            await channel._wait_in_line(lambda: shared(kind()), urgent)
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
            budgets = self._budgets(kind)
            if id(budgets[0]) in claimed:
                continue  # round-robin: only the first in line for each budget may take its slot
            claimed.add(id(budgets[0]))
            if waiter is me:
                delay = self.next_slot(kind, me.urgent()) - now
                if delay <= 0:
                    self._waiters.remove(me)
                    for budget in budgets:
                        budget.take(now)
                    self._granted.setdefault(kind, deque()).append(now)
                    return None
                return delay
        return POLL_SECONDS

    def sent(self, kind: Kind) -> None:
        """The trace saw a request of this kind go out on this lane (a create or an edit). One the pacer let through
        was counted when it was let through; any other is counted now, in the lane's budget and, for an
        interaction, in its channel's shared one."""
        now = self._clock()
        self._count(kind, now)
        if self.channel is not None:
            self.channel._count(shared(kind), now)

    def _count(self, kind: Kind, now: float) -> None:
        granted = self._granted.get(kind)
        while granted and now - granted[0] > GRANT_SECONDS:
            granted.popleft()  # let through but never sent (the write failed before it went out)
        if granted:
            granted.popleft()
        else:
            for budget in self._budgets(kind):
                budget.take(now)

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
            self.channel._interactions_through.setdefault(shared(kind), deque(maxlen=64)).append(now)
        if remaining <= 0:
            budget.blocked_until = max(budget.blocked_until, now + reset_after)

    def penalize(self, retry_after: float) -> None:
        """Discord said 429: nothing goes out on this lane until `retry_after` has passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + retry_after)

    def penalize_shared(self, kind: Kind, retry_after: float) -> None:
        """A 429 of the hidden per-channel sub-limit on this kind of request: hold the channel and pace its
        interactions together.

        The sub-limit is not announced, so it is estimated from what got through before the 429: that kind's
        interaction requests of the last window, less one, never under the conservative budget.
        """
        channel = self.channel or self
        now = channel._clock()
        channel.penalize(retry_after)
        kind = shared(kind)
        window = {
            k: sum(1 for t in channel._interactions_through.get(k, ()) if now - t < WINDOW_SECONDS)
            for k in SHARED_KINDS
        }
        estimates = {kind: window[kind], Kind.SHARED: sum(window.values())}
        renew = now >= channel._crowded_until  # a minute without one: the estimates start afresh
        for which, through in estimates.items():
            limit = max(REQUESTS_PER_WINDOW, through - 1)
            known = channel._shared.get(which)
            if known is None or limit < known.limit or renew:
                learned = Budget(limit, WINDOW_SECONDS)
                learned.sent.extend(t for t in channel._prior.sent if now - t < WINDOW_SECONDS)
                channel._shared[which] = learned
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
