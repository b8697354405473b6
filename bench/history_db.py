"""Memory at scale: 1,000,000 turns across 1,000 channels in a migrated SQLite file.

Prints the context fetch latency for one channel (p50, p99; target p50 < 2 ms) through the repository the bot
uses, and the append throughput (one committed turn per unit of work, as the bot writes them).

    python bench/history_db.py [--turns 1000000] [--channels 1000] [--url sqlite+aiosqlite:///...]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.db import history
from bot.db.database import Database
from bot.db.models import TurnRow

FETCH = 50  # turns per context fetch (more than a small model's window holds)
BATCH = 20_000


async def fill(db: Database, turns: int, channels: int) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    text = "A typical chat message of moderate length, about as long as people write in Discord. " * 2
    for offset in range(0, turns, BATCH):
        rows = [
            {
                "channel_id": 1000 + (i % channels),
                "guild_id": 1,
                "role": "user" if i % 2 else "assistant",
                "content": text,
                "author_name": "someone",
                "status": "complete",
                "created_at": now,
            }
            for i in range(offset, min(offset + BATCH, turns))
        ]
        async with db.sessions.begin() as session:
            await session.execute(insert(TurnRow), rows)
    return time.perf_counter() - started


async def fetch_latencies(db: Database, channels: int, samples: int) -> list[float]:
    latencies = []
    for _ in range(samples):
        channel = 1000 + random.randrange(channels)
        started = time.perf_counter()
        async with db.sessions() as session:
            turns = await history.recent_turns(session, channel, FETCH)
        latencies.append(time.perf_counter() - started)
        assert len(turns) == FETCH
    return latencies


async def append_rate(db: Database, channels: int, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        async with db.sessions.begin() as session:
            await history.add_turn(
                session,
                channel_id=1000 + i % channels,
                guild_id=1,
                role="user",
                content=f"appended {i}",
                author_name="bench",
            )
    return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-history-")
    url = args.url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
    db = await Database.open(url)
    fill_s = await fill(db, args.turns, args.channels)
    print(f"filled {args.turns:,} turns in {args.channels:,} channels in {fill_s:.1f} s (bulk insert)")
    await fetch_latencies(db, args.channels, 50)  # warm caches
    lat = sorted(await fetch_latencies(db, args.channels, 2000))
    p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99)]
    print(
        f"context fetch ({FETCH} newest turns of one channel): p50 {p50 * 1000:.2f} ms, "
        f"p99 {p99 * 1000:.2f} ms  (target p50 < 2 ms)"
    )
    print(
        f"append throughput: {await append_rate(db, args.channels, 2000):,.0f} turns/s "
        "(one committed unit of work per turn)"
    )
    await db.close()


if __name__ == "__main__":
    asyncio.run(main())
