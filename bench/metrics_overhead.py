"""What the operations endpoint costs: metrics on (served and scraped every second) against off, in one run.

(a) Acknowledgement latency of 200 `/ask` at once through the real bot against the local Discord stand-in.
(b) Aggregate tokens/s of the packaged SmolLM2 answering 8 questions at once (the batch scheduler updates its
    gauges every decoding step).
(c) The cost of one metric update, and how many an answer makes.
Rounds alternate on and off; the medians are printed side by side. Target: on within 2 % of off.

    python bench/metrics_overhead.py [--rounds 3] [--count 200] [--tokens 96]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import aclosing, suppress
from pathlib import Path

from discord.http import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from discord_standin import DiscordStandin
from load import interaction

from bot.app import Services
from bot.discord_bot import HFBot
from bot.domain import GenerationParams
from bot.generation.local import LocalBackend, LocalModelPool
from bot.ops import metrics
from bot.ops.server import OpsServer
from bot.settings import Settings
from tests.standins.scripted import ScriptedBackend

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "models"


SCRAPER = """
import sys, time, urllib.request
while True:
    for path in ("/metrics", "/healthz", "/readyz"):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{path}", timeout=5).read()
        except OSError:
            pass
    time.sleep(1.0)
"""


async def scraping(server: OpsServer) -> None:
    """Prometheus and a probe, as they would run: another process, every second."""
    scraper = await asyncio.create_subprocess_exec(sys.executable, "-c", SCRAPER, str(server.port))
    try:
        await asyncio.Event().wait()
    finally:
        scraper.kill()
        await scraper.wait()


async def with_endpoint(on: bool, checks: dict, work):  # type: ignore[no-untyped-def,type-arg]
    if not on:
        return await work()
    server = OpsServer("127.0.0.1", 0, checks)
    await server.start()
    scraper = asyncio.create_task(scraping(server))
    try:
        return await work()
    finally:
        scraper.cancel()
        with suppress(asyncio.CancelledError):
            await scraper
        await server.stop()


async def ack_round(on: bool, count: int) -> float:
    standin = await DiscordStandin().start()
    Route.BASE = f"{standin.url}/api/v10"
    folder = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'bot.db'}",  # type: ignore[call-arg]
        user_cooldown_seconds=0,
        guild_max_concurrent=count,
    )
    services = await Services.open(settings)
    services.registry.register(ScriptedBackend(text="A short scripted answer. " * 10, delay=0.02))
    services.registry.default_model = "scripted"
    bot = HFBot(services)
    await bot.login("bench-token")

    async def work() -> float:
        sent: dict[str, float] = {}
        for i in range(count):
            payload = interaction(i, 20, 2)
            standin.channel_of_token[str(payload["token"])] = int(str(payload["channel_id"]))
            sent[str(payload["id"])] = time.monotonic()
            bot._connection.parse_interaction_create(payload)
        deadline = time.monotonic() + 60
        while len(standin.callbacks) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await asyncio.sleep(2)
        return statistics.median(standin.callbacks[k] - sent[k] for k in standin.callbacks if k in sent)

    try:
        return await with_endpoint(on, bot.readiness_checks(), work)
    finally:
        await bot.close()
        await services.close()
        await standin.stop()


async def tokens_round(on: bool, backend: LocalBackend, tokens: int) -> float:
    async def one(i: int) -> int:
        question = [{"role": "user", "content": f"Tell me a long story about the number {i}."}]
        params = GenerationParams(max_tokens=tokens, temperature=0.0)
        count = 0
        async with aclosing(backend.stream(question, params)) as pieces:  # type: ignore[arg-type]
            async for piece in pieces:
                count += isinstance(piece, str)
        return count

    async def work() -> float:
        started = time.perf_counter()
        produced = sum(await asyncio.gather(*(one(i) for i in range(8))))
        return produced / (time.perf_counter() - started)

    return await with_endpoint(on, {}, work)


def spread(values: list[float], scale: float = 1.0) -> str:
    return "/".join(f"{v * scale:.0f}" for v in values)


def update_cost() -> float:
    gauge, counter = metrics.local_batch_size.labels("bench"), metrics.generated_tokens.labels("bench")
    rounds = 200_000
    started = time.perf_counter()
    for _ in range(rounds):
        gauge.set(3)
        counter.inc(1)
    return (time.perf_counter() - started) / (2 * rounds)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    acks: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (False, True):
            acks[on].append(await ack_round(on, args.count))
    pool = LocalModelPool(cache_dir=CACHE, max_batch=8, dtype="float32")
    backend = LocalBackend("smollm2", pool)
    await tokens_round(False, backend, 8)  # warm-up
    speeds: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (False, True):
            speeds[on].append(await tokens_round(on, backend, args.tokens))
    pool.close()
    off_ack, on_ack = statistics.median(acks[False]), statistics.median(acks[True])
    off_tps, on_tps = statistics.median(speeds[False]), statistics.median(speeds[True])
    print(
        f"(a) ack latency p50 of {args.count} /ask at once: off {off_ack * 1000:.1f} ms | on {on_ack * 1000:.1f} ms "
        f"| on/off {on_ack / off_ack:.3f}"
        f"   (rounds off {spread(acks[False], 1000)} ms, on {spread(acks[True], 1000)} ms)"
    )
    print(
        f"(b) SmolLM2, 8 at once: off {off_tps:.1f} tok/s | on {on_tps:.1f} tok/s | on/off {on_tps / off_tps:.3f}"
        f"   (rounds off {spread(speeds[False])}, on {spread(speeds[True])})"
    )
    cost = update_cost()
    print(
        f"(c) one metric update: {cost * 1e9:.0f} ns; an answer makes about 15, and a decoding step 2 "
        f"({2 * cost * 1e6:.2f} µs against a step of tens of ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
