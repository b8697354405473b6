"""Scenario (d) of the Discord benchmark: 20 `/ask` arriving at once, and how fast each is acknowledged.

The real bot (its cogs, command tree and services) runs against the local Discord stand-in: interactions enter
through discord.py's own gateway parser, and the stand-in timestamps each interaction callback. Prints the p50/p99
time from an interaction arriving to Discord receiving its acknowledgement (target p99 < 250 ms).

    python bench/ack_latency.py [--count 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from discord.http import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from discord_standin import APPLICATION_ID, DiscordStandin

from bot.app import Services
from bot.discord_bot import HFBot
from bot.generation.builder import build_registry
from bot.settings import Settings
from tests.standins.scripted import ScriptedBackend


def interaction(i: int) -> dict[str, object]:
    user = {"id": str(5000 + i), "username": f"user{i}", "discriminator": "0", "avatar": None, "global_name": None}
    return {
        "id": str(9000 + i),
        "application_id": str(APPLICATION_ID),
        "type": 2,
        "token": f"token{i}",
        "version": 1,
        "channel_id": str(7000 + i),
        "channel": {"id": str(7000 + i), "type": 1, "recipients": [user]},
        "user": user,
        "app_permissions": "0",
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10_485_760,
        "authorizing_integration_owners": {"1": str(5000 + i)},
        "context": 1,
        "data": {
            "id": "1",
            "name": "ask",
            "type": 1,
            "options": [{"name": "prompt", "type": 3, "value": f"Question number {i}?"}],
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    standin = await DiscordStandin().start()
    Route.BASE = f"{standin.url}/api/v10"
    folder = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'bot.db'}",  # type: ignore[call-arg]
        user_cooldown_seconds=0,
        guild_max_concurrent=args.count,
    )
    registry = build_registry(settings)
    registry.register(ScriptedBackend(text="A short scripted answer. " * 20, delay=0.03))
    registry.default_model = "scripted"
    services = await Services.open(settings, registry)
    bot = HFBot(services)
    await bot.login("bench-token")
    sent: dict[str, float] = {}
    for i in range(args.count):
        payload = interaction(i)
        sent[str(payload["id"])] = time.monotonic()
        bot._connection.parse_interaction_create(payload)
    await asyncio.sleep(0)
    deadline = time.monotonic() + 30
    while len(standin.callbacks) < args.count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    latencies = sorted(standin.callbacks[k] - sent[k] for k in standin.callbacks if k in sent)
    await asyncio.sleep(3)  # let the answers finish streaming before closing
    await bot.close()
    await services.close()
    await standin.stop()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"(d) {args.count} /ask at once: {len(latencies)} acknowledged; ack latency p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms  (target p99 < 250 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
