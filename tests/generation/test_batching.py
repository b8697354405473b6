"""Continuous batching with the real SmolLM2: concurrent answers equal solo answers, rows leave cleanly."""

from __future__ import annotations

import asyncio
import threading
from contextlib import aclosing

import pytest

from bot.domain import ChatMessage, GenerationParams
from bot.errors import BusyError, ModelUnavailableError
from bot.generation.batching import BatchRequest
from bot.generation.local import LocalBackend, LocalModelPool
from bot.generation.local_stream import LoopStreamer
from tests.conftest import MODEL_CACHE

# Several real SmolLM2 answers side by side take a minute or two on two busy cores: past the 120 s per-test limit.
pytestmark = pytest.mark.timeout(600)

PROMPTS = [
    "What is the capital of France?",
    "Write a short poem about the sea.",
    "Explain what a CPU does in two sentences.",
    "List three fruits that are red.",
]
GREEDY = GenerationParams(max_tokens=40)


def ask(text: str) -> list[ChatMessage]:
    return [{"role": "user", "content": text}]


async def answer(backend: LocalBackend, text: str, params: GenerationParams = GREEDY, delay: float = 0.0) -> str:
    await asyncio.sleep(delay)
    async with aclosing(backend.stream(ask(text), params)) as pieces:
        return "".join([p async for p in pieces if isinstance(p, str)])


async def test_concurrent_staggered_greedy_answers_equal_solo_answers(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    alone = [await answer(backend, p) for p in PROMPTS]
    scheduler = smollm2_pool.scheduler(await smollm2_pool.get("smollm2"))
    scheduler.peak_rows = 0
    together = await asyncio.gather(*(answer(backend, p, delay=0.15 * i) for i, p in enumerate(PROMPTS)))
    assert scheduler.peak_rows >= 3  # they really were decoded together, joining as they arrived
    assert together == alone
    assert len(set(alone)) == 4 and all(alone)


async def test_cancelling_one_leaves_the_others_unchanged(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    alone = [await answer(backend, p) for p in PROMPTS[:3]]

    async def cancelled_midway() -> str:
        received = []
        async with aclosing(backend.stream(ask("Tell me a very long story about dragons."), GREEDY)) as pieces:
            async for piece in pieces:
                received.append(piece)
                if len(received) == 5:
                    break
        return "".join(received)

    results = await asyncio.gather(
        answer(backend, PROMPTS[0]),
        cancelled_midway(),
        answer(backend, PROMPTS[1], delay=0.1),
        answer(backend, PROMPTS[2], delay=0.2),
    )
    assert [results[0], results[2], results[3]] == alone
    assert results[1]


async def test_sampling_rows_do_not_disturb_greedy_rows(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    alone = await answer(backend, PROMPTS[3])
    hot = GenerationParams(max_tokens=40, temperature=1.2, top_k=40, top_p=0.95)
    greedy, sampled = await asyncio.gather(answer(backend, PROMPTS[3]), answer(backend, PROMPTS[0], hot))
    assert greedy == alone and sampled


async def test_full_queue_says_busy_instead_of_hanging(smollm2_pool: LocalModelPool) -> None:
    loaded = await smollm2_pool.get("smollm2")
    scheduler = smollm2_pool.scheduler(loaded)
    ids = loaded.tokenizer("Hello", return_tensors="pt")["input_ids"]
    loop = asyncio.get_running_loop()
    requests = []
    try:
        with pytest.raises(BusyError, match="too many questions"):
            for _ in range(scheduler.max_batch + scheduler.max_waiting + 5):
                cancel = threading.Event()
                streamer = LoopStreamer(loaded.tokenizer, loop, asyncio.Queue(), (), cancel)
                request = BatchRequest(ids, GenerationParams(max_tokens=200), 200, streamer, cancel)
                requests.append(request)
                scheduler.submit(request)
    finally:
        for request in requests:
            request.cancel.set()
    backend = LocalBackend("smollm2", smollm2_pool)
    assert "Paris" in await asyncio.wait_for(answer(backend, PROMPTS[0]), timeout=60)


async def test_unloading_fails_running_and_queued_answers_clearly() -> None:
    pool = LocalModelPool(cache_dir=MODEL_CACHE, max_batch=1)
    backend = LocalBackend("smollm2", pool)
    loaded = await pool.get("smollm2")
    long = GenerationParams(max_tokens=400)
    stories = [f"Write a long story about {topic}." for topic in ("dragons", "the sea", "a robot")]
    tasks = [asyncio.create_task(answer(backend, p, long)) for p in stories]
    scheduler = pool.scheduler(loaded)
    async with asyncio.timeout(30):
        while scheduler.active < 1:  # noqa: ASYNC110 - the scheduler's thread changes this
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # one answer is being generated, two wait for the single row
    pool.unload()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
    assert all(isinstance(r, ModelUnavailableError) for r in results), results
