"""The tool stage's cost. Prints:

1. the latency it adds to an answer that calls no tool (target < 5 ms): choosing the tools (one read of the
   server's switches) plus streaming through the stage, against the same answer streamed without tools;
2. one `search_history` call over 1,000,000 stored turns in 1,000 channels of a migrated SQLite file (target p50
   < 20 ms), through the tool the model calls.

    python bench/tools.py [--turns 1000000] [--channels 1000] [--samples 200]

Figures depend on the machine and its load; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.db.database import Database
from bot.db.models import TurnRow
from bot.domain import ChatMessage, GenerationParams, Place, StreamEnd
from bot.services.tools import ToolService
from bot.tools.types import ToolPlace

PIECES = 200  # an answer of about 200 tokens
BATCH = 20_000
WORDS = [
    "release",
    "deploy",
    "budget",
    "meeting",
    "friday",
    "review",
    "pizza",
    "server",
    "bug",
    "fix",
    "docs",
    "launch",
    "test",
    "design",
    "plan",
]


class Scripted:
    """A backend that answers at once, so only the stage's own work is measured."""

    name, kind = "bench", "api"

    async def tool_support(self) -> bool:
        return True

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams, tools: Any = None
    ) -> AsyncGenerator[Any, None]:
        for _ in range(PIECES):
            yield " word"
        yield StreamEnd()


async def drain(items: Any) -> None:
    async with aclosing(items) as stream:
        async for _ in stream:
            pass


async def stage_overhead(db: Database, samples: int) -> tuple[float, float]:
    tools, backend = ToolService(db), Scripted()
    messages: list[ChatMessage] = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    params, place = GenerationParams(), Place(1, 1000)
    plain, staged = [], []
    for _ in range(samples):
        started = time.perf_counter()
        await drain(backend.stream(messages, params))
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        run = await tools.for_answer(place, backend)
        assert run is not None
        await drain(run.stream(backend, messages, params))
        staged.append(time.perf_counter() - started)
    return statistics.median(plain), statistics.median(staged)


async def fill(db: Database, turns: int, channels: int) -> float:
    started, now, rng = time.perf_counter(), datetime.now(UTC), random.Random(7)
    for offset in range(0, turns, BATCH):
        rows = [
            {
                "channel_id": 1000 + (i % channels),
                "guild_id": 1,
                "role": "user" if i % 2 else "assistant",
                "content": " ".join(rng.choices(WORDS, k=12)) + f" item{i % 5000}",
                "author_name": "someone",
                "status": "complete",
                "created_at": now,
            }
            for i in range(offset, min(offset + BATCH, turns))
        ]
        async with db.sessions.begin() as session:
            await session.execute(insert(TurnRow), rows)
    return time.perf_counter() - started


async def search_latencies(db: Database, channels: int, samples: int) -> list[float]:
    search = ToolService(db).catalogue.tools()[0]
    assert search.spec.name == "search_history"
    latencies = []
    for n in range(samples):
        place = ToolPlace(1, 1000 + random.randrange(channels))
        query = f"what about the {random.choice(WORDS)} item{n % 5000}?"
        started = time.perf_counter()
        output = await search.run({"query": query}, place)
        latencies.append(time.perf_counter() - started)
        assert output
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            plain, staged = await stage_overhead(db, args.samples)
            print(f"answer of {PIECES} pieces, no tool call: {plain * 1000:.3f} ms plain, {staged * 1000:.3f} ms")
            print(f"  tool stage adds {(staged - plain) * 1000:.3f} ms (p50; target < 5 ms)")
            filled = await fill(db, args.turns, args.channels)
            print(f"stored {args.turns:,} turns in {args.channels:,} channels in {filled:.0f} s (FTS5 triggers on)")
            found = sorted(await search_latencies(db, args.channels, args.samples))
            p50, p99 = statistics.median(found), found[int(len(found) * 0.99) - 1]
            print(f"search_history: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms (target p50 < 20 ms)")
        finally:
            await db.close()
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
