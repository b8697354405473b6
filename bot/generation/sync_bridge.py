"""A private event loop in a daemon thread, so the synchronous seed API can drive async backends.

Everything the facade runs goes through this one loop, so the backends' asyncio locks always belong to it,
whether the caller is synchronous code or another event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hf-generator-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Block the calling (non-loop) thread until the coroutine finishes."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine that runs on the private loop from another loop; cancellation crosses over."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        try:
            while True:
                try:
                    yield self.run(_next(agen))
                except StopAsyncIteration:
                    return
        finally:
            self.run(_close(agen))

    async def aiterate(self, agen: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        try:
            while True:
                try:
                    yield await self.run_async(_next(agen))
                except StopAsyncIteration:
                    return
        finally:
            await asyncio.shield(self.run_async(_close(agen)))


async def _next(agen: AsyncIterator[T]) -> T:
    return await agen.__anext__()


async def _close(agen: AsyncIterator[Any]) -> None:
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()
