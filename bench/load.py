"""Load: many `/ask` at once through the real bot, on SQLite or PostgreSQL, against local stand-ins.

The real bot (cogs, command tree, answer pipeline, store migrated by Alembic) runs against the local Discord
stand-in: interactions enter through discord.py's own gateway parser, answers stream from an OpenAI-compatible
local server through the real `huggingface_hub` client, and the stand-in records every acknowledgement and message.
Printed per database: how many were acknowledged (max and p99 latency from arrival to Discord receiving the
acknowledgement; target < 3 s), answered with the full text, refused as busy (with the message shown), lost
(neither; must be 0) and internal errors (must be 0).

    python bench/load.py [--count 1000] [--channels 50] [--servers 5] [--database sqlite|postgresql|both]
                         [--server-limit N]   # GUILD_MAX_CONCURRENT; 70 admits all 1,000 (every answer written)
                         [--profile]          # where the time goes until the last acknowledgement
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from discord.http import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from discord_standin import APPLICATION_ID, DiscordStandin

from bot.answers.service import GENERIC
from bot.app import Services
from bot.discord_bot import HFBot
from bot.errors import StoreBusyError
from bot.settings import Settings
from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.postgres import PostgresServer, find_bin_dir

BUSY_WORDS = ("as many questions", "too busy")
STORE_BUSY = StoreBusyError().user_message


def interaction(i: int, channels: int, servers: int) -> dict[str, object]:
    channel, guild = 7000 + i % channels, 100 + i % servers
    user = {"id": str(50000 + i), "username": f"user{i}", "discriminator": "0", "avatar": None, "global_name": None}
    return {
        "id": str(900000 + i),
        "application_id": str(APPLICATION_ID),
        "type": 2,
        "token": f"token{i}",
        "version": 1,
        "guild_id": str(guild),
        "channel_id": str(channel),
        "channel": {"id": str(channel), "type": 0, "guild_id": str(guild), "name": f"c{channel}", "position": 0},
        "member": {
            "user": user,
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "permissions": "2048",
            "flags": 0,
            "deaf": False,
            "mute": False,
        },
        "app_permissions": "2048",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10_485_760,
        "authorizing_integration_owners": {"0": str(guild)},
        "context": 0,
        "data": {
            "id": "1",
            "name": "ask",
            "type": 1,
            "options": [{"name": "prompt", "type": 3, "value": f"Question number {i}?"}],
        },
    }


async def run(
    database_url: str, label: str, count: int, channels: int, servers: int, limit: int, profile: bool = False
) -> None:
    standin = await DiscordStandin().start()
    chat = await ChatServer(chunk_delay=0.02).start()
    Route.BASE = f"{standin.url}/api/v10"
    settings = Settings(
        _env_file=None,
        database_url=database_url,  # type: ignore[call-arg]
        api_models=["ok"],
        default_model="ok",
        hf_base_url=chat.url,
        hf_token="bench",
        user_cooldown_seconds=0,
        guild_max_concurrent=limit,
    )
    services = await Services.open(settings)
    bot = HFBot(services)
    await bot.login("bench-token")
    sent: dict[str, float] = {}
    payloads = [interaction(i, channels, servers) for i in range(count)]
    for p in payloads:
        standin.channel_of_token[str(p["token"])] = int(str(p["channel_id"]))
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    for p in payloads:
        sent[str(p["id"])] = time.monotonic()
        bot._connection.parse_interaction_create(p)
    if profiler is not None:
        until = time.monotonic() + 10
        while len(standin.callbacks) < count and time.monotonic() < until:  # noqa: ASYNC110 (a bench's poll)
            await asyncio.sleep(0.01)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 40)
    deadline = time.monotonic() + 60 + count * 0.2
    answered: set[str] = set()
    told: dict[str, str] = {}
    while time.monotonic() < deadline:
        answered, told = outcomes(standin, payloads)
        if len(answered) + len(told) >= count:
            break
        await asyncio.sleep(0.5)
    await bot.close()
    await services.close()
    await chat.stop()
    await standin.stop()

    latencies = sorted(standin.callbacks[k] - sent[k] for k in standin.callbacks if k in sent)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    busy = {t: m for t, m in told.items() if any(w in m for w in BUSY_WORDS) and m != STORE_BUSY}
    store_busy = {t: m for t, m in told.items() if m == STORE_BUSY}  # the database pool ran dry: told, not lost
    errors = {t: m for t, m in told.items() if t not in busy and t not in store_busy}
    lost = count - len(answered) - len(told)
    print(
        f"({label}) {count} /ask at once over {channels} channels in {servers} servers, {limit} at once each: "
        f"acknowledged {len(latencies)} (median {latencies[len(latencies) // 2]:.2f} s, p99 {p99:.2f} s, "
        f"max {max(latencies):.2f} s) | "
        f"answered in full {len(answered)} | refused as busy {len(busy)} (store busy {len(store_busy)}) | "
        f"lost {lost} | internal errors {len(errors)}"
    )
    if busy:
        print(f"    busy message shown: {next(iter(busy.values()))!r}")
    for message in list(errors.values())[:3]:
        print(f"    error shown: {message!r}  (GENERIC: {message == GENERIC})")


def outcomes(standin: DiscordStandin, payloads: list[dict[str, object]]) -> tuple[set[str], dict[str, str]]:
    """Tokens whose public answer reads the full reply, and tokens whose asker was told something privately."""
    public: dict[str, dict[int, str]] = {}
    private: dict[str, str] = {}
    for token, body in standin.original.items():
        data = body.get("data") or {}
        if body.get("type") == 4 and isinstance(data, dict):  # answered in the interaction's own response
            private[token] = str(data.get("content", ""))
    for seen in standin.seen:
        body = standin.original.get(seen.token, {})
        deferred_privately = bool(int((body.get("data") or {}).get("flags") or 0) & 64)  # type: ignore[union-attr]
        is_original = standin.original_ids.get(seen.token) == seen.message_id
        if seen.flags & 64 or (is_original and deferred_privately):
            if "in line" not in seen.content:
                private[seen.token] = seen.content
        elif seen.token:
            public.setdefault(seen.token, {})[seen.message_id] = seen.content
    words = REPLY.split()
    answered = {t for t, messages in public.items() if " ".join(messages.values()).split()[: len(words)] == words}
    return answered, {t: m for t, m in private.items() if t not in answered}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--server-limit", type=int, default=Settings(_env_file=None).guild_max_concurrent)  # type: ignore[call-arg]
    parser.add_argument("--profile", action="store_true", help="where the time goes until the last acknowledgement")
    args = parser.parse_args()
    shape = (args.count, args.channels, args.servers, args.server_limit, args.profile)
    if args.database in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
        await run(f"sqlite+aiosqlite:///{folder / 'bot.db'}", "SQLite", *shape)
    if args.database in ("postgresql", "both"):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("(PostgreSQL) skipped: no initdb on this machine")
            return
        server = PostgresServer(bin_dir)
        try:
            url = server.start()
            await run(url, "PostgreSQL", *shape)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
