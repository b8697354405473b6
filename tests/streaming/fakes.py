"""A fake clock and a fake Discord message endpoint for pacing tests (the network edge, nothing else)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.streaming.renderer import RateLimitedError

T = TypeVar("T")


class FakeClock:
    """Virtual time: `sleep` returns when the driver moves time past its deadline, instantly in real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._seq), future))
        await future

    async def run(self, awaitable: Awaitable[T], limit: float = 3600.0) -> T:
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(50):
                await asyncio.sleep(0)
            if task.done():
                break
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            assert self._sleepers, "deadlock: nothing is sleeping and the task is not done"
            deadline, _, future = heapq.heappop(self._sleepers)
            assert deadline <= limit, "virtual time ran past the limit"
            self.now = max(self.now, deadline)
            future.set_result(None)
        return task.result()


@dataclass
class Request:
    at: float
    op: str
    index: int
    content: str


@dataclass
class FakeChannel:
    """Records creates/edits like Discord's message endpoint and can answer 429 to chosen requests."""

    clock: FakeClock
    limit_per_window: int = 5
    window: float = 5.0
    fail_with_429: dict[int, float] = field(default_factory=dict)  # request number → retry_after
    requests: list[Request] = field(default_factory=list)
    attempts: int = 0
    contents: list[str] = field(default_factory=list)

    def violations(self) -> int:
        times = [r.at for r in self.requests]
        return sum(
            1
            for i, t in enumerate(times)
            if sum(1 for u in times[: i + 1] if t - u < self.window) > self.limit_per_window
        )

    def sink(self) -> FakeSink:
        return FakeSink(self)


@dataclass
class FakeSink:
    channel: FakeChannel
    mine: list[int] = field(default_factory=list)

    def _maybe_429(self) -> None:
        self.channel.attempts += 1
        retry_after = self.channel.fail_with_429.get(self.channel.attempts)
        if retry_after is not None:
            raise RateLimitedError(retry_after)

    async def create(self, content: str, view: Any | None) -> int:
        self._maybe_429()
        self.channel.contents.append(content)
        index = len(self.channel.contents) - 1
        self.mine.append(index)
        self.channel.requests.append(Request(self.channel.clock.now, "create", index, content))
        return index

    async def edit(self, handle: int, content: str, view: Any | None) -> None:
        self._maybe_429()
        self.channel.contents[handle] = content
        self.channel.requests.append(Request(self.channel.clock.now, "edit", handle, content))

    def visible(self) -> list[str]:
        return [self.channel.contents[i] for i in self.mine]
