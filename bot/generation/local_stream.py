"""Handing a request's tokens from the model's worker thread back to the event loop as text.

The worker decodes incrementally and crosses threads only through `loop.call_soon_threadsafe`; a failure in
the worker reaches the consumer as an exception, never as a silently short answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import StreamEnd

_DONE = object()


@dataclass(slots=True)
class _Failed:
    error: BaseException


class LoopStreamer:
    """Posts decoded text deltas to an asyncio queue (the transformers streamer interface: put/end)."""

    def __init__(
        self,
        tokenizer: Any,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[object],
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> None:
        self._tokenizer, self._loop, self._queue = tokenizer, loop, queue
        self._stop, self._cancel = tuple(stop), cancel or threading.Event()
        self._ids: list[int] = []
        self._segment_start = 0
        self._committed = ""
        self._sent = 0
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt itself
            self._prompt_seen = True
            return
        self._ids.extend(value.reshape(-1).tolist())
        self._emit(final=False)

    def end(self) -> None:
        self._emit(final=True)

    def finish(self, error: BaseException | None = None, end: StreamEnd | None = None) -> None:
        """Tell the consumer the answer is over (with why it ended), or that it failed."""
        if error is not None:
            self.post(_Failed(error))
            return
        if end is not None:
            self.post(end)
        self.post(_DONE)

    def _emit(self, final: bool) -> None:
        if self._cancel.is_set():
            return
        # Only the tokens since the last line break are decoded again, so the cost per token stays flat.
        segment = self._tokenizer.decode(self._ids[self._segment_start :], skip_special_tokens=True)
        if not final and segment.endswith("\ufffd"):
            return  # half a multi-byte character: wait for the next token
        text = self._committed + segment
        cut = self._stop_at(text)
        if cut is not None:
            text = text[:cut]
            self._cancel.set()
        if len(text) > self._sent:
            self.post(text[self._sent :])
            self._sent = len(text)
        if segment.endswith("\n"):
            self._committed, self._segment_start = text, len(self._ids)

    def _stop_at(self, text: str) -> int | None:
        hits = [text.find(s, max(0, self._sent - len(s))) for s in self._stop]
        found = [h for h in hits if h >= 0]
        return min(found) if found else None

    def post(self, item: object) -> None:
        # RuntimeError: the loop closed under us, so nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)


async def drain(queue: asyncio.Queue[object]) -> AsyncGenerator[str | StreamEnd, None]:
    """Yield text (then the StreamEnd) from the queue until DONE; re-raise a worker failure here, in the consumer."""
    while True:
        item = await queue.get()
        if item is _DONE:
            return
        if isinstance(item, _Failed):
            raise item.error
        yield item if isinstance(item, StreamEnd) else str(item)
