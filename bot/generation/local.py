"""The local backend: transformers + torch in-process, shared copies of the models.

Several local models can be resident (`LOCAL_MAX_RESIDENT`); loading one more evicts the least recently used idle
one. A model with running or queued answers holds a lease and is never unloaded under them. Each resident model
has a batch scheduler (`batching`) in a worker thread that serves every request at once with continuous batching;
the event loop never waits on torch.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from bot.domain import ChatMessage, GenerationParams, StreamEnd
from bot.errors import PromptTooLongError
from bot.generation.batching import BatchRequest, BatchScheduler
from bot.generation.local_loader import LocalModel, load_local_model
from bot.generation.local_stream import LoopStreamer, drain
from bot.generation.prompt import render_prompt, takes_tools
from bot.generation.tool_calls import TaggedCallFilter
from bot.tools.types import ToolCalls

log = logging.getLogger(__name__)

MIN_ANSWER_TOKENS = 16  # a prompt that leaves less room than this is refused, not silently truncated


@dataclass
class Resident:
    loaded: LocalModel
    scheduler: BatchScheduler
    leases: int = 0  # answers running or queued on it
    last_used: float = field(default_factory=time.monotonic)


class LocalModelPool:
    """Holds the resident local models and the schedulers that run them."""

    def __init__(
        self,
        device: str | None = None,
        cache_dir: Path | None = None,
        context_limit: int | None = None,
        max_batch: int = 8,
        max_waiting: int = 32,
        max_resident: int = 2,
        dtype: str = "auto",
    ) -> None:
        self._device, self._cache_dir, self._context_limit = device, cache_dir, context_limit
        self.max_batch, self.max_waiting = max_batch, max_waiting
        self.max_resident, self.dtype = max(1, max_resident), dtype
        self._resident: dict[str, Resident] = {}
        self._load_lock = asyncio.Lock()

    def is_resident(self, name: str) -> bool:
        return name in self._resident

    def resident_names(self) -> list[str]:
        return list(self._resident)

    async def get(self, name: str) -> LocalModel:
        """The model, loaded first (on its scheduler's thread) when it is not resident."""
        return (await self._resident_for(name)).loaded

    async def _resident_for(self, name: str) -> Resident:
        if name not in self._resident:
            async with self._load_lock:
                if name not in self._resident:
                    # The scheduler's thread loads the model and then runs it: torch stays on one thread.
                    scheduler = BatchScheduler(
                        partial(load_local_model, name, self._device, self._cache_dir, self.dtype),
                        self.max_batch,
                        self.max_waiting,
                    )
                    try:
                        loaded = await asyncio.shield(asyncio.wrap_future(scheduler.ready))
                    except asyncio.CancelledError:
                        scheduler.ready.add_done_callback(lambda _: scheduler.close(wait=False))  # nobody adopts it
                        raise
                    self._adopt(loaded, scheduler)
        resident = self._resident[name]
        resident.last_used = time.monotonic()
        return resident

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[Resident]:
        """Pin a model for one answer: it stays resident until the answer is over."""
        resident = await self._resident_for(name)
        resident.leases += 1
        try:
            yield resident
        finally:
            resident.leases -= 1
            # Over budget, this model stayed only for its running answers; the one loaded meanwhile is wanted.
            self._trim(first=name)

    def _adopt(self, loaded: LocalModel, scheduler: BatchScheduler) -> None:
        # A smaller window than the model's bounds prompt memory and prefill time on a CPU.
        if self._context_limit:
            loaded.context_window = min(loaded.context_window, self._context_limit)
        self._resident[loaded.name] = Resident(loaded, scheduler)
        self._trim(keep=loaded.name)

    def _trim(self, keep: str | None = None, first: str | None = None) -> None:
        """Evict idle models (`first`, then the least recently used) until at most `max_resident` remain."""
        idle = sorted(
            (r for n, r in self._resident.items() if r.leases == 0 and n != keep),
            key=lambda r: (r.loaded.name != first, r.last_used),
        )
        while len(self._resident) > self.max_resident and idle:
            self.unload(idle.pop(0).loaded.name)
        if len(self._resident) > self.max_resident:
            log.warning(
                "%d local models resident (LOCAL_MAX_RESIDENT=%d): the others are answering; evicting when idle",
                len(self._resident),
                self.max_resident,
            )

    def scheduler(self, loaded: LocalModel) -> BatchScheduler:
        resident = self._resident.get(loaded.name)
        if resident is None or resident.loaded is not loaded:
            raise RuntimeError("the local model was unloaded while a request was starting")
        return resident.scheduler

    def unload(self, name: str | None = None) -> None:
        """Unload one model (or all): running and queued answers on it fail with a clear error."""
        for model_name in [name] if name is not None else list(self._resident):
            resident = self._resident.pop(model_name, None)
            if resident is None:
                continue
            resident.scheduler.close()
            log.info("Unloaded local model %r", model_name)
        gc.collect()

    def close(self) -> None:
        self.unload()


def clamp_new_tokens(prompt_tokens: int, wanted: int, window: int) -> int:
    room = window - prompt_tokens
    if room < MIN_ANSWER_TOKENS:
        raise PromptTooLongError(
            f"The conversation is too long for this model ({prompt_tokens} tokens of a {window}-token "
            "window). Shorten the message or clear the channel's history."
        )
    return max(1, min(wanted, room))


class LocalBackend:
    kind: Literal["local"] = "local"

    def __init__(self, name: str, pool: LocalModelPool, defaults: GenerationParams | None = None) -> None:
        self.name = name
        self._pool = pool
        self._defaults = defaults  # configured for this model; else the model's own generation config

    def needs_loading(self) -> bool:
        return not self._pool.is_resident(self.name)

    async def context_window(self) -> int:
        return (await self._pool.get(self.name)).context_window

    async def sampling_defaults(self) -> GenerationParams:
        if self._defaults is not None:
            return self._defaults
        return (await self._pool.get(self.name)).sampling

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        loaded = await self._pool.get(self.name)
        if not texts:
            return []
        encoded = await asyncio.to_thread(loaded.tokenizer, list(texts), add_special_tokens=False)
        return [len(ids) for ids in encoded["input_ids"]]

    async def tool_support(self) -> bool:
        return takes_tools((await self._pool.get(self.name)).tokenizer)

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> AsyncGenerator[str | StreamEnd | ToolCalls, None]:
        if not tools:
            async for item in self._generate(messages, params):
                yield item
            return
        calls = TaggedCallFilter()  # the template's `<tool_call>{…}</tool_call>`, held back from the reader
        async for item in self._generate(messages, params, tools):
            if isinstance(item, str):
                if shown := calls.feed(item):
                    yield shown
                continue
            if rest := calls.flush():
                yield rest
            if found := calls.calls():
                yield ToolCalls(found)
            yield item

    async def _generate(
        self, messages: Sequence[ChatMessage], params: GenerationParams, tools: Sequence[dict[str, Any]] | None = None
    ) -> AsyncGenerator[str | StreamEnd, None]:
        async with self._pool.lease(self.name) as resident:
            loaded = resident.loaded
            prompt = render_prompt(loaded.tokenizer, messages, tools)
            ids = await asyncio.to_thread(self._encode, loaded, prompt)
            new_tokens = clamp_new_tokens(ids.shape[1], params.max_tokens, loaded.context_window)
            queue: asyncio.Queue[object] = asyncio.Queue()
            cancel = threading.Event()
            streamer = LoopStreamer(loaded.tokenizer, asyncio.get_running_loop(), queue, params.stop, cancel)
            resident.scheduler.submit(BatchRequest(ids, params, new_tokens, streamer, cancel))
            try:
                async for item in drain(queue):
                    yield item
            finally:
                cancel.set()  # a no-op after a normal finish; frees the batch row at once when the consumer left

    @staticmethod
    def _encode(loaded: LocalModel, prompt: str) -> Any:
        return loaded.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
