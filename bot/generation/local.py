"""The local backend: transformers + torch in-process, one shared copy of the model.

One model is resident at a time (switching frees the previous one). Generation runs in a single worker
thread; the asyncio lock queues callers first come, first served, so the event loop never waits on torch.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from bot.errors import PromptTooLongError
from bot.generation.local_loader import LocalModel, load_local_model
from bot.generation.local_stream import CancelCriteria, LoopStreamer, drain, run_generate
from bot.generation.prompt import render_prompt
from bot.generation.types import ChatMessage, GenerationParams

log = logging.getLogger(__name__)

MIN_ANSWER_TOKENS = 16  # a prompt that leaves less room than this is refused, not silently truncated
DEFAULT_TOP_P = 0.9
DEFAULT_TOP_K = 50
SAMPLING_REPETITION_PENALTY = 1.1  # only when sampling: greedy output stays the model's plain argmax


class LocalModelPool:
    """Holds the one resident local model and the worker thread that runs it."""

    def __init__(
        self, device: str | None = None, cache_dir: Path | None = None, context_limit: int | None = None
    ) -> None:
        self._device = device
        self._cache_dir = cache_dir
        self._context_limit = context_limit
        self._loaded: LocalModel | None = None
        self._load_lock = asyncio.Lock()
        self.generation_lock = asyncio.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-generate")

    @property
    def loaded_name(self) -> str | None:
        return self._loaded.name if self._loaded else None

    async def get(self, name: str) -> LocalModel:
        async with self._load_lock:
            if self._loaded is None or self._loaded.name != name:
                self.unload()
                self._loaded = self._capped(
                    await asyncio.to_thread(load_local_model, name, self._device, self._cache_dir)
                )
            return self._loaded

    def loaded_tokenizer(self) -> Any:
        if self._loaded is None:
            raise RuntimeError("no local model is loaded")
        return self._loaded.tokenizer

    def load_blocking(self, name: str) -> LocalModel:
        """For synchronous callers (the seed API outside an event loop)."""
        if self._loaded is None or self._loaded.name != name:
            self.unload()
            self._loaded = self._capped(load_local_model(name, self._device, self._cache_dir))
        return self._loaded

    def _capped(self, loaded: LocalModel) -> LocalModel:
        # A smaller window than the model's bounds prompt memory and prefill time on a CPU.
        if self._context_limit:
            loaded.context_window = min(loaded.context_window, self._context_limit)
        return loaded

    def unload(self) -> None:
        if self._loaded is not None:
            log.info("Unloading local model %r", self._loaded.name)
            self._loaded = None
            gc.collect()

    def close(self) -> None:
        self.unload()
        self.executor.shutdown(wait=False, cancel_futures=True)


def generate_kwargs(params: GenerationParams, max_new_tokens: int, pad_token_id: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "pad_token_id": pad_token_id,
        "do_sample": not params.greedy,
    }
    if not params.greedy:
        # Unset nucleus/top-k would mean sampling the whole vocabulary, which derails small models.
        kwargs["temperature"] = params.temperature
        kwargs["top_p"] = params.top_p if params.top_p is not None else DEFAULT_TOP_P
        kwargs["top_k"] = params.top_k if params.top_k is not None else DEFAULT_TOP_K
        kwargs["repetition_penalty"] = SAMPLING_REPETITION_PENALTY
    return kwargs


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
        inputs = await asyncio.to_thread(self._encode, loaded, prompt)
        new_tokens = clamp_new_tokens(inputs["input_ids"].shape[1], params.max_tokens, loaded.context_window)
        kwargs = generate_kwargs(params, new_tokens, loaded.tokenizer.pad_token_id)
        async with self._pool.generation_lock:
            async for piece in self._run(loaded, inputs, kwargs, params.stop):
                yield piece

    @staticmethod
    def _encode(loaded: LocalModel, prompt: str) -> dict[str, Any]:
        enc = loaded.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        return {k: v.to(loaded.device) for k, v in enc.items()}

    async def _run(
        self, loaded: LocalModel, inputs: dict[str, Any], kwargs: dict[str, Any], stop: Sequence[str]
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()
        streamer = LoopStreamer(loaded.tokenizer, loop, queue, stop, cancel)
        kwargs = {**kwargs, "stopping_criteria": [CancelCriteria(cancel)]}
        worker = loop.run_in_executor(self._pool.executor, run_generate, loaded.model, inputs, kwargs, streamer)
        try:
            async for piece in drain(queue):
                yield piece
        finally:
            cancel.set()  # a no-op after a normal finish; stops the worker when the consumer left early
            await asyncio.shield(worker)
