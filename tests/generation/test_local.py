"""The local backend with the real packaged SmolLM2 model."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from pathlib import Path

import pytest

from bot.domain import ChatMessage, GenerationParams
from bot.errors import PromptTooLongError
from bot.generation.local import LocalBackend, LocalModelPool
from tests.conftest import MODEL_CACHE, prompt_tokens, text_tokens

CAPITAL: list[ChatMessage] = [{"role": "user", "content": "What is the capital of France?"}]
STORY: list[ChatMessage] = [{"role": "user", "content": "Write a long story about a dragon and a knight."}]


async def collect(backend: LocalBackend, messages: list[ChatMessage], params: GenerationParams) -> list[str]:
    async with aclosing(backend.stream(messages, params)) as pieces:
        return [p async for p in pieces if isinstance(p, str)]


async def test_real_answer_streams_in_several_pieces(smollm2_pool: LocalModelPool) -> None:
    pieces = await collect(LocalBackend("smollm2", smollm2_pool), CAPITAL, GenerationParams(max_tokens=30))
    assert "Paris" in "".join(pieces)
    assert len(pieces) >= 3


async def test_greedy_is_deterministic_and_max_tokens_bounds_length(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    short = "".join(await collect(backend, STORY, GenerationParams(max_tokens=8)))
    longer = "".join(await collect(backend, STORY, GenerationParams(max_tokens=24)))
    assert longer.startswith(short) and len(longer) > len(short)
    assert await text_tokens(smollm2_pool, "smollm2", short) <= 9  # one token of slack for a re-tokenized boundary


async def test_stop_string_ends_the_answer_before_it(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    full = "".join(await collect(backend, CAPITAL, GenerationParams(max_tokens=30)))
    stopped = "".join(await collect(backend, CAPITAL, GenerationParams(max_tokens=30, stop=("Paris",))))
    assert stopped == full[: full.index("Paris")]


async def test_cancellation_stops_generation_promptly(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    received = 0
    async with aclosing(backend.stream(STORY, GenerationParams(max_tokens=400))) as pieces:
        async for _ in pieces:
            received += 1
            if received == 3:
                break
        started = time.perf_counter()
    closed_in = time.perf_counter() - started
    assert closed_in < 1.0, "closing the stream must stop the worker within a decoding step or two"
    # The model is free again at once: the next request does not wait for 400 tokens of a dead answer.
    assert "Paris" in "".join(await collect(backend, CAPITAL, GenerationParams(max_tokens=20)))


async def test_event_loop_keeps_ticking_during_generation(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await collect(backend, STORY, GenerationParams(max_tokens=60))
    done.set()
    await task
    assert len(gaps) > 50
    # Blocking would stall it for whole decoding steps (seconds); 100 ms leaves room for a loaded 2-core machine.
    assert max(gaps) < 0.100, f"event loop stalled {max(gaps) * 1000:.0f} ms"


async def test_oversized_prompt_is_refused_clearly(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    assert await backend.context_window() == 8192
    huge: list[ChatMessage] = [{"role": "user", "content": "word " * 9000}]
    with pytest.raises(PromptTooLongError, match="too long"):
        await collect(backend, huge, GenerationParams())


async def test_long_prompt_clamps_max_tokens_to_the_window() -> None:
    pool = LocalModelPool(cache_dir=MODEL_CACHE, context_limit=200)  # a small window keeps the prefill quick
    backend = LocalBackend("smollm2", pool)
    messages: list[ChatMessage] = [{"role": "user", "content": "word " * 120 + "Now tell me a long story."}]
    used = await prompt_tokens(pool, "smollm2", messages)
    assert 120 < used < 200 - 16
    pieces = await collect(backend, messages, GenerationParams(max_tokens=5000))
    answer_tokens = await text_tokens(pool, "smollm2", "".join(pieces))
    assert 0 < answer_tokens <= 200 - used + 1  # answered within the room left instead of failing
    pool.close()


async def test_converted_cache_gives_identical_answers(smollm2_pool: LocalModelPool, tmp_path: Path) -> None:
    fresh = LocalModelPool(cache_dir=tmp_path)
    await fresh.get("smollm2")  # from the GGUF in the wheel; writes the converted copy
    assert (tmp_path / "SmolLM2-135M-Instruct.Q4_1" / "model.safetensors").is_file()
    params = GenerationParams(max_tokens=24)
    from_gguf = await collect(LocalBackend("smollm2", fresh), STORY, params)
    fresh.close()
    reloaded = LocalModelPool(cache_dir=tmp_path)
    from_cache = await collect(LocalBackend("smollm2", reloaded), STORY, params)
    reloaded.close()
    assert "".join(from_gguf) == "".join(from_cache)


async def test_switching_models_never_unloads_one_that_is_answering() -> None:
    second = str(MODEL_CACHE / "SmolLM2-135M-Instruct.Q4_1")  # the converted copy, loaded as a second model
    pool = LocalModelPool(cache_dir=MODEL_CACHE, max_resident=1, dtype="float32")
    first, other = LocalBackend("smollm2", pool), LocalBackend(second, pool)
    alone = "".join(await collect(first, STORY, GenerationParams(max_tokens=30)))
    received: list[str] = []
    async with aclosing(first.stream(STORY, GenerationParams(max_tokens=30))) as pieces:
        async for piece in pieces:
            if isinstance(piece, str):
                received.append(piece)
            if len(received) == 3 and other.needs_loading():
                await other.context_window()  # another channel switches model while this answer runs
                assert sorted(pool.resident_names()) == sorted(["smollm2", second])  # over budget, not unloaded
    assert "".join(received) == alone  # the running answer finished untouched
    assert pool.resident_names() == [second]  # then the budget holds again
    await other.context_window()
    await first.context_window()  # nothing is answering now: loading evicts the least recently used at once
    assert pool.resident_names() == ["smollm2"]
    pool.close()
