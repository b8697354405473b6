"""LOCAL_DTYPE side by side: single-stream and 8-stream aggregate tokens/s, and the quiz score, for each form.

Run: python bench/local_dtype.py [--tokens 96]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import aclosing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain import ChatMessage, GenerationParams  # noqa: E402
from bot.generation.embedded import EMBEDDED_SAMPLING  # noqa: E402
from bot.generation.local import LocalBackend, LocalModelPool  # noqa: E402
from bot.generation.local_loader import pick_dtype  # noqa: E402
from tests.quality.quiz import QUIZ, right  # noqa: E402

CACHE = ROOT / ".cache" / "models"
QUIZ_SEEDS = (None, 1, 2, 3, 4, 5, 6, 7)
SYSTEM = "You are a helpful assistant in a Discord server. Answer clearly and concisely."


def story(i: int) -> list[ChatMessage]:
    return [{"role": "user", "content": f"Write a long story about lighthouse number {i} and a whale."}]


async def tokens_of(backend: LocalBackend, messages: list[ChatMessage], params: GenerationParams) -> tuple[str, int]:
    text, produced = "", 0
    async with aclosing(backend.stream(messages, params)) as pieces:
        async for piece in pieces:
            if isinstance(piece, str):
                text += piece
            else:
                produced = piece.completion_tokens or 0
    return text, produced


async def measure(dtype: str, tokens: int) -> tuple[float, float, int]:
    pool = LocalModelPool(cache_dir=CACHE, dtype=dtype, max_batch=8)
    backend = LocalBackend("smollm2", pool)
    greedy = GenerationParams(max_tokens=tokens)
    await tokens_of(backend, story(0), GenerationParams(max_tokens=8))  # warm-up
    started = time.perf_counter()
    _, produced = await tokens_of(backend, story(0), greedy)
    single = produced / (time.perf_counter() - started)
    started = time.perf_counter()
    results = await asyncio.gather(*(tokens_of(backend, story(i), greedy) for i in range(8)))
    aggregate = sum(n for _, n in results) / (time.perf_counter() - started)
    score = 0
    for seed in QUIZ_SEEDS:  # one run is luck on a 135M model: greedy plus seven seeds, twelve questions each
        sampled = GenerationParams(max_tokens=60, temperature=EMBEDDED_SAMPLING.temperature, top_p=0.9, seed=seed)
        params = GenerationParams(max_tokens=60) if seed is None else sampled
        asked = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}] for q, _ in QUIZ]
        answers = await asyncio.gather(*(tokens_of(backend, a, params) for a in asked))  # type: ignore[arg-type]
        score += sum(right(answer, accepted) for (answer, _), (_, accepted) in zip(answers, QUIZ, strict=True))
    pool.close()
    return single, aggregate, score


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    auto = pick_dtype("auto", "cpu", "smollm2")
    print(f"LOCAL_DTYPE=auto picks {auto} for the embedded model on this machine; {args.tokens} tokens per answer")
    print(f"{'dtype':10} {'single tok/s':>12} {'8-stream tok/s':>15} {'quiz':>7}")
    base = None
    for dtype in ("float32", "bfloat16", "int8", "int4"):
        single, aggregate, score = await measure(dtype, args.tokens)
        base = base or (single, aggregate)
        ratio = f"({single / base[0]:.2f}x, {aggregate / base[1]:.2f}x)"
        print(f"{dtype:10} {single:12.1f} {aggregate:15.1f} {score:4}/{12 * len(QUIZ_SEEDS)}  {ratio}")


if __name__ == "__main__":
    asyncio.run(main())
