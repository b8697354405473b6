"""The local backend: transformers + torch in-process, one shared copy of the model.

One model is resident at a time (switching frees the previous one). Its batch scheduler (`batching`) runs in a
worker thread and serves every request at once with continuous batching; the event loop never waits on torch.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any, Literal

from bot.errors import PromptTooLongError
from bot.generation.batching import BatchRequest, BatchScheduler
from bot.generation.local_loader import LocalModel, load_local_model
from bot.generation.local_stream import LoopStreamer, drain
from bot.generation.prompt import render_prompt
from bot.generation.types import ChatMessage, GenerationParams

log = logging.getLogger(__name__)

MIN_ANSWER_TOKENS = 16  # a prompt that leaves less room than this is refused, not silently truncated


class LocalModelPool:
    """Holds the one resident local model and the scheduler that runs it."""

    def __init__(
        self,
        device: str | None = None,
        cache_dir: Path | None = None,
        context_limit: int | None = None,
        max_batch: int = 8,
        max_waiting: int = 32,
    ) -> None:
        self._device, self._cache_dir, self._context_limit = device, cache_dir, context_limit
        self.max_batch, self.max_waiting = max_batch, max_waiting
        self._loaded: LocalModel | None = None
        self._scheduler: BatchScheduler | None = None
        self._load_lock = asyncio.Lock()

    @property
    def loaded_name(self) -> str | None:
        return self._loaded.name if self._loaded else None

    async def get(self, name: str) -> LocalModel:
        async with self._load_lock:
            if self._loaded is None or self._loaded.name != name:
                self.unload()
                loaded = await asyncio.to_thread(load_local_model, name, self._device, self._cache_dir)
                self._adopt(loaded)
            assert self._loaded is not None
            return self._loaded

    def load_blocking(self, name: str) -> LocalModel:
        """For synchronous callers (the seed API outside an event loop)."""
        if self._loaded is None or self._loaded.name != name:
            self.unload()
            self._adopt(load_local_model(name, self._device, self._cache_dir))
        assert self._loaded is not None
        return self._loaded

    def _adopt(self, loaded: LocalModel) -> None:
        # A smaller window than the model's bounds prompt memory and prefill time on a CPU.
        if self._context_limit:
            loaded.context_window = min(loaded.context_window, self._context_limit)
        self._loaded = loaded
        self._scheduler = BatchScheduler(loaded, self.max_batch, self.max_waiting)

    def scheduler(self, loaded: LocalModel) -> BatchScheduler:
        if self._scheduler is None or self._scheduler.loaded is not loaded:
            raise RuntimeError("the local model was switched while a request was starting")
        return self._scheduler

    def loaded_tokenizer(self) -> Any:
        if self._loaded is None:
            raise RuntimeError("no local model is loaded")
        return self._loaded.tokenizer

    def unload(self) -> None:
        if self._scheduler is not None:
            self._scheduler.close()  # its running answers fail with a clear error; queued ones too
            self._scheduler = None
        if self._loaded is not None:
            log.info("Unloading local model %r", self._loaded.name)
            self._loaded = None
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

    def __init__(self, name: str, pool: LocalModelPool) -> None:
        self.name = name
        self._pool = pool

    async def context_window(self) -> int:
        return (await self._pool.get(self.name)).context_window

    async def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        loaded = await self._pool.get(self.name)
        prompt = render_prompt(loaded.tokenizer, messages)
        ids = await asyncio.to_thread(loaded.tokenizer.encode, prompt, add_special_tokens=False)
        return len(ids)

    async def count_text(self, texts: Sequence[str]) -> list[int]:
        loaded = await self._pool.get(self.name)
        if not texts:
            return []
        encoded = await asyncio.to_thread(loaded.tokenizer, list(texts), add_special_tokens=False)
        return [len(ids) for ids in encoded["input_ids"]]

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        loaded = await self._pool.get(self.name)
        prompt = render_prompt(loaded.tokenizer, messages)
        ids = await asyncio.to_thread(self._encode, loaded, prompt)
        new_tokens = clamp_new_tokens(ids.shape[1], params.max_tokens, loaded.context_window)
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()
        streamer = LoopStreamer(loaded.tokenizer, asyncio.get_running_loop(), queue, params.stop, cancel)
        self._pool.scheduler(loaded).submit(BatchRequest(ids, params, new_tokens, streamer, cancel))
        try:
            async for piece in drain(queue):
                yield piece
        finally:
            cancel.set()  # a no-op after a normal finish; frees the batch row at once when the consumer left

    @staticmethod
    def _encode(loaded: LocalModel, prompt: str) -> Any:
        return loaded.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
