"""A fake clock and a fake Discord message endpoint for pacing tests (the network edge, nothing else)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.streaming.page import Page
from bot.streaming.renderer import RateLimitedError

T = TypeVar("T")

CONTENT_LIMIT = 2000  # Discord refuses a message's content past this (50035 Invalid Form Body)
COMPONENTS_V2_LIMIT = 4000  # the text of a Components V2 message, all its text displays together


class TooLongError(Exception):
    """What Discord answers a message over its limit: the request fails and nothing changes."""


def check_length(content: str, view: Any | None) -> None:
    v2 = view is not None and getattr(view, "has_components_v2", lambda: False)()
    limit = COMPONENTS_V2_LIMIT if v2 else CONTENT_LIMIT
    if len(content) > limit:
        raise TooLongError(f"400 Bad Request (error code: 50035): content is {len(content)} characters, over {limit}")


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
    bucket: str = ""
    view: Any = None  # the page's controls
    page: Page | None = None


@dataclass
class _Window:
    start: float = -1e9
    used: int = 0


@dataclass
class FakeChannel:
    """Records creates/edits like Discord's message endpoints, refusing content over Discord's limits.

    With `pacers`, every answer carries Discord's rate-limit headers through the bot's own trace (the bucket's
    limit, remaining and reset; a fixed window from its first request, as Discord counts): creates and edits in a
    bucket each, or in one when `separate` is off. Interaction sinks write through their token's webhook bucket,
    and `shared_limit` adds the hidden per-channel sub-limit on interaction requests, answered with a
    `X-RateLimit-Scope: shared` 429 that the sink then retries after `retry_after`, as discord.py does.
    """

    clock: FakeClock
    limit_per_window: int = 5
    window: float = 5.0
    fail_with_429: dict[int, float] = field(default_factory=dict)  # request number → retry_after
    pacers: Any = None
    channel_id: int = 42
    separate: bool = True
    same_bucket_id: bool = False
    shared_limit: tuple[int, float] | None = None  # (requests, seconds) over the channel's interaction requests
    shared_by_kind: bool = False  # the hidden limit counts creates and edits apart, `shared_limit` each
    requests: list[Request] = field(default_factory=list)
    attempts: int = 0
    contents: list[str] = field(default_factory=list)
    shared_429s: int = 0
    drained: int = 0  # answers that said a bucket had nothing left (discord.py then sleeps until its reset)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _interaction_times: dict[str, list[float]] = field(default_factory=dict)

    def violations(self, limits: dict[str, tuple[int, float]] | None = None) -> int:
        """Requests over their bucket's limit in any sliding window (stricter than Discord's fixed windows)."""
        count = 0
        for bucket in {r.bucket for r in self.requests}:
            limit, window = (limits or {}).get(bucket, (self.limit_per_window, self.window))
            times = [r.at for r in self.requests if r.bucket == bucket]
            count += sum(1 for i, t in enumerate(times) if sum(1 for u in times[: i + 1] if t - u < window) > limit)
        return count

    def sink(self, layout: str = "classic") -> FakeSink:
        return FakeSink(self, layout=layout)

    def interaction_sink(self, token: str, limit: int = 5, window: float = 2.0, layout: str = "classic") -> FakeSink:
        return FakeSink(self, token=token, limit=limit, window=window, layout=layout)

    def _headers(self, bucket: str, limit: int, window: float) -> dict[str, str]:
        now = self.clock.now
        state = self._windows.setdefault(bucket, _Window())
        if now - state.start >= window:
            state.start, state.used = now, 0
        state.used += 1
        self.drained += state.used >= limit
        bucket_id = bucket.split(":")[0] if self.same_bucket_id else bucket
        return {
            "X-RateLimit-Bucket": bucket_id,
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - state.used)),
            "X-RateLimit-Reset-After": f"{window - (now - state.start):.3f}",
        }


@dataclass
class FakeSink:
    channel: FakeChannel
    token: str | None = None
    limit: int = 5
    window: float = 5.0
    layout: str = "classic"  # or "components": Discord's Components V2 rules
    mine: list[int] = field(default_factory=list)
    pages: dict[int, Page] = field(default_factory=dict)
    _original_used: bool = False

    @property
    def message_limit(self) -> int:
        return COMPONENTS_V2_LIMIT if self.layout == "components" else CONTENT_LIMIT

    def _check(self, page: Page) -> str:
        """What Discord would refuse: content past 2,000, or text displays past 4,000 in all; the text shown."""
        if self.layout == "components":
            total = len(page.body) + len(page.notice)
            if total > COMPONENTS_V2_LIMIT:
                raise TooLongError(f"400 Bad Request (error code: 50035): text displays hold {total} characters")
        else:
            check_length(page.text(), None)
        return page.text()

    def create_kind(self) -> Any:
        from bot.streaming.pacing import Kind

        return Kind.EDIT if self.token is not None and not self._original_used else Kind.CREATE

    async def _request(self, op: str) -> str:
        from bot.discord_ui.ratelimit_trace import observe_request, observe_response

        channel = self.channel
        channel.attempts += 1
        retry_after = channel.fail_with_429.get(channel.attempts)
        if retry_after is not None:
            raise RateLimitedError(retry_after)
        method = "POST" if op == "create" else "PATCH"
        if self.token is None:
            url = f"https://discord.com/api/v10/channels/{channel.channel_id}/messages" + ("/1" if op == "edit" else "")
            if channel.pacers is not None:
                observe_request(channel.pacers, method, url)
            announced_apart = channel.separate and channel.pacers is not None  # unannounced: held to one budget
            bucket = f"channel-{channel.channel_id}" + (f":{op}" if announced_apart else "")
            limit, window = channel.limit_per_window, channel.window
        else:
            url = f"https://discord.com/api/v10/webhooks/1/{self.token}" + ("/messages/1" if op == "edit" else "")
            bucket, limit, window = f"webhook-{self.token}:{op}", self.limit, self.window
            times = channel._interaction_times.setdefault(op if channel.shared_by_kind else "all", [])
            while channel.shared_limit is not None:
                if channel.pacers is not None:  # every attempt goes out, the retries discord.py makes by itself too
                    observe_request(channel.pacers, method, url)
                count, seconds = channel.shared_limit
                recent = [t for t in times if channel.clock.now - t < seconds]
                if len(recent) < count:
                    times.append(channel.clock.now)
                    break
                channel.shared_429s += 1
                wait = recent[0] + seconds - channel.clock.now
                headers = {"Retry-After": f"{wait:.3f}", "X-RateLimit-Scope": "shared"}
                if channel.pacers is not None:
                    observe_response(channel.pacers, method, url, 429, headers)
                await channel.clock.sleep(wait)
            else:
                if channel.pacers is not None:
                    observe_request(channel.pacers, method, url)
        if channel.pacers is not None:
            observe_response(channel.pacers, method, url, 200, channel._headers(bucket, limit, window))
        return bucket

    async def create(self, page: Page) -> int:
        content = self._check(page)
        op = "edit" if self.create_kind() == "edit" else "create"
        bucket = await self._request(op)
        self._original_used = True
        self.channel.contents.append(content)
        index = len(self.channel.contents) - 1
        self.mine.append(index)
        self.pages[index] = page
        request = Request(self.channel.clock.now, "create", index, content, bucket, page.controls, page)
        self.channel.requests.append(request)
        return index

    async def edit(self, handle: int, page: Page) -> None:
        content = self._check(page)
        bucket = await self._request("edit")
        self.channel.contents[handle] = content
        self.pages[handle] = page
        request = Request(self.channel.clock.now, "edit", handle, content, bucket, page.controls, page)
        self.channel.requests.append(request)

    def visible(self) -> list[str]:
        return [self.channel.contents[i] for i in self.mine]
