"""Local backend: streaming through the async interface vs raw `model.generate`, and event-loop stalls.

Prints single-stream tokens/s both ways on the same prompt and token count (greedy float32, so both produce the same
tokens), their ratio (target >= 0.95), and the event loop's largest stall while generating (target < 50 ms).
Raw `generate` runs in a process of its own with the model on its main thread: its best case (a second thread
running torch in this process would slow both, see bot/generation/batching.py).

    python bench/local_stream.py [--tokens 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing
from pathlib import Path
from typing import Any

import torch

from bot.domain import ChatMessage, GenerationParams
from bot.generation.local import LocalBackend, LocalModelPool
from bot.generation.local_loader import load_local_model
from bot.generation.prompt import render_prompt

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "models"
PROMPT: list[ChatMessage] = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a whale."}]


TICK = 0.005
_raw: Any = None  # the worker process's model


def raw_generate(tokens: int) -> tuple[float, int, str]:
    global _raw
    if _raw is None:
        _raw = load_local_model("smollm2", "cpu", CACHE, "float32")
    loaded = _raw
    text = render_prompt(loaded.tokenizer, PROMPT)
    inputs = loaded.tokenizer(text, return_tensors="pt", add_special_tokens=False)
    started = time.perf_counter()
    with torch.inference_mode():
        out = loaded.model.generate(
            **inputs, max_new_tokens=tokens, do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id
        )
    elapsed = time.perf_counter() - started
    new = out[0][inputs["input_ids"].shape[1] :]
    return elapsed, len(new), loaded.tokenizer.decode(new, skip_special_tokens=True)


async def streamed(pool: LocalModelPool, tokens: int) -> tuple[float, str, float]:
    backend = LocalBackend("smollm2", pool)
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        # Every 5 ms: fine enough for a 50 ms target. A 1 ms ticker took the GIL so often that it cost the
        # model's thread 14 % of its speed by itself.
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            gaps.append(now - last - TICK)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    async with aclosing(backend.stream(PROMPT, GenerationParams(max_tokens=tokens))) as pieces:
        text = "".join([p async for p in pieces if isinstance(p, str)])
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    return elapsed, text, max(gaps)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pool = LocalModelPool(cache_dir=CACHE, dtype="float32")
    await pool.get("smollm2")
    raw = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(raw, raw_generate, 8)  # loads, and warms up
    raw_times, stream_times, stalls = [], [], []
    for _ in range(args.rounds):  # interleaved, so machine noise hits both sides alike
        raw_s, count, raw_text = await loop.run_in_executor(raw, raw_generate, args.tokens)
        stream_s, text, stall = await streamed(pool, args.tokens)
        assert text == raw_text, "greedy output through the stream must equal raw generate"
        raw_times.append(raw_s)
        stream_times.append(stream_s)
        stalls.append(stall)
    raw_tps = count / min(raw_times)
    stream_tps = count / min(stream_times)
    print(f"tokens per answer: {count}  (torch threads: {torch.get_num_threads()})")
    print(f"raw model.generate:      {raw_tps:6.1f} tokens/s (best of {args.rounds})")
    print(f"async stream interface:  {stream_tps:6.1f} tokens/s (best of {args.rounds})")
    print(f"ratio stream/raw:        {stream_tps / raw_tps:6.3f}   (target >= 0.95)")
    print(f"largest event-loop stall: {max(stalls) * 1000:5.1f} ms  (target < 50 ms)")
    pool.close()
    raw.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
