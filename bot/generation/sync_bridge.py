"""The event loop the seed API's backends belong to, so synchronous callers and other loops can drive them.

Standalone (a script), it is a private loop in a daemon thread. Inside the bot it is the bot's own loop, which owns
the running registry's backends: async callers on that loop run directly, other threads hand their work over.
Either way everything the facade runs goes through one loop, so the backends' asyncio locks always belong to it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """A private loop in a thread of its own, or `loop`: one that is already running (the bot's)."""
        self.owns_loop = loop is None
        self.loop = loop or asyncio.new_event_loop()
        if self.owns_loop:
            threading.Thread(target=self.loop.run_forever, name="hf-generator-loop", daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Block the calling (non-loop) thread until the coroutine finishes."""
        if self._on_loop():
            coro.close()
            raise RuntimeError("A blocking seed call on the bot's own event loop would stop it: await the async API.")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine that runs on the backends' loop from any loop; cancellation crosses over."""
        if self._on_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        if self.owns_loop:
            self.loop.call_soon_threadsafe(self.loop.stop)

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

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
