"""Load: many `/ask` at once through the real bot, in one or two processes, on SQLite or PostgreSQL.

The real bot (cogs, command tree, answer pipeline, store migrated by Alembic) runs in worker processes against the
local Discord stand-in and an OpenAI-compatible model server, which run in a process of their own (on Discord they
are not on the bot's CPU). Interactions enter each worker through discord.py's own gateway parser, all in the same
instant; answers stream through the real `huggingface_hub` client; the stand-in records every acknowledgement and
message. With `--processes 2` the workers are two shards (`SHARD_COUNT=2`, `SHARD_IDS=0` / `1`) of one bot on one
PostgreSQL, each given its own servers' questions.

Printed per run: how many were acknowledged (median, p99 and max latency from arrival to Discord receiving the
acknowledgement; Discord's limit is 3 s, the target 1.5 s), answered with the full text, refused as busy (with the
message shown), lost (neither; must be 0) and internal errors (must be 0).

    python bench/load.py [--count 1000] [--channels 50] [--servers 6] [--database sqlite|postgresql|both]
                         [--server-limit N]   # GUILD_MAX_CONCURRENT; 70 admits all 1,000 (every answer written)
                         [--processes 1|2]    # 2: two shards on PostgreSQL, count/2 questions each
                         [--profile]          # (one process) where the worker's time goes until its last ack
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from discord_standin import APPLICATION_ID  # noqa: E402

from tests.standins.chat_server import REPLY  # noqa: E402
from tests.standins.postgres import PostgresServer, find_bin_dir  # noqa: E402

BUSY_WORDS = ("as many questions", "too busy")
STORE_BUSY = "I'm too busy to take your question right now. Please ask again in a minute."  # StoreBusyError's


def guild_of(i: int, servers: int) -> int:
    return (1 + i % servers) << 22  # a snowflake whose shard (id >> 22) % count spreads servers over shards


def interaction(i: int, channels: int, servers: int) -> dict[str, object]:
    guild = guild_of(i, servers)
    channel = 7000 + i % channels
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


# --- a worker: one bot process -------------------------------------------------------------------------------------


async def worker(args: argparse.Namespace) -> None:
    """Start the bot, say "ready", parse this shard's interactions on "go", run until "stop", print when each came."""
    from discord.http import Route

    from bot.app import Services
    from bot.discord_bot import HFBot
    from bot.errors import StoreBusyError
    from bot.settings import Settings

    assert StoreBusyError().user_message == STORE_BUSY
    urls = json.loads(args.urls)
    Route.BASE = f"{urls['discord']}/api/v10"
    sharded = args.processes > 1
    settings = Settings(
        _env_file=None,
        database_url=args.database_url,  # type: ignore[call-arg]
        api_models=["ok"],
        default_model="ok",
        hf_base_url=urls["chat"],
        hf_token="bench",
        user_cooldown_seconds=0,
        guild_max_concurrent=args.server_limit,
        shard_count=args.processes if sharded else None,
        shard_ids=[args.shard] if sharded else None,
        sync_commands=args.shard == 0,
    )
    services = await Services.open(settings)
    bot = HFBot(services)
    await bot.login("bench-token")
    mine = [i for i in range(args.count) if (guild_of(i, args.servers) >> 22) % args.processes == args.shard]
    payloads = [interaction(i, args.channels, args.servers) for i in mine]
    lines = asyncio.Queue[str]()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: lines.put_nowait(sys.stdin.readline().strip()))
    print("ready", flush=True)
    assert await lines.get() == "go"
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    sent: dict[str, float] = {}
    for p in payloads:
        sent[str(p["id"])] = time.monotonic()
        bot._connection.parse_interaction_create(p)
    print(json.dumps(sent), flush=True)
    if profiler is not None:
        await asyncio.sleep(3)  # the acknowledgements of the burst
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 40)
    assert await lines.get() == "stop"
    loop.remove_reader(sys.stdin.fileno())
    await bot.close()
    await services.close()


# --- the bench ------------------------------------------------------------------------------------------------------


async def records(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(f"{url}/_records") as response:
        return dict(await response.json())


def outcomes(seen_records: dict[str, Any]) -> tuple[set[str], dict[str, str]]:
    """Tokens whose public answer reads the full reply, and tokens whose asker was told something privately."""
    original: dict[str, dict[str, Any]] = seen_records["original"]
    original_ids: dict[str, int] = seen_records["original_ids"]
    public: dict[str, dict[int, str]] = {}
    private: dict[str, str] = {}
    for token, body in original.items():
        data = body.get("data") or {}
        if body.get("type") == 4 and isinstance(data, dict):  # answered in the interaction's own response
            private[token] = str(data.get("content", ""))
    for seen in seen_records["seen"]:
        token = seen["token"]
        body = original.get(token, {})
        deferred_privately = bool(int((body.get("data") or {}).get("flags") or 0) & 64)
        is_original = original_ids.get(token) == seen["message_id"]
        if seen["flags"] & 64 or (is_original and deferred_privately):
            if "in line" not in seen["content"]:
                private[token] = seen["content"]
        elif token:
            public.setdefault(token, {})[seen["message_id"]] = seen["content"]
    words = REPLY.split()
    answered = {t for t, messages in public.items() if " ".join(messages.values()).split()[: len(words)] == words}
    return answered, {t: m for t, m in private.items() if t not in answered}


async def run(database_url: str, label: str, args: argparse.Namespace) -> None:
    standins = subprocess.Popen(  # noqa: ASYNC220 (started before anything runs)
        [sys.executable, str(HERE / "standin_process.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert standins.stdout is not None and standins.stdin is not None
    urls = json.loads(standins.stdout.readline())
    workers: list[subprocess.Popen[str]] = []
    try:
        async with aiohttp.ClientSession() as session:
            tokens = {f"token{i}": 7000 + i % args.channels for i in range(args.count)}
            async with session.post(f"{urls['discord']}/_tokens", json=tokens):
                pass
            for shard in range(args.processes):  # one after the other: the first migrates the store
                command = [sys.executable, __file__, "--worker", "--shard", str(shard), "--urls", json.dumps(urls)]
                command += ["--database-url", database_url, "--processes", str(args.processes)]
                command += ["--count", str(args.count), "--channels", str(args.channels)]
                command += ["--servers", str(args.servers), "--server-limit", str(args.server_limit)]
                command += ["--profile"] if args.profile else []
                process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
                assert process.stdout is not None
                assert process.stdout.readline().strip() == "ready", f"worker {shard} did not start"
                workers.append(process)
            for process in workers:
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
            sent: dict[str, float] = {}
            for process in workers:
                assert process.stdout is not None
                sent.update(json.loads(await asyncio.to_thread(process.stdout.readline)))
            deadline = time.monotonic() + 60 + args.count * 0.2
            while time.monotonic() < deadline:
                await asyncio.sleep(3)
                seen_records = await records(session, urls["discord"])
                answered, told = outcomes(seen_records)
                if len(answered) + len(told) >= args.count:
                    break
            for process in workers:
                assert process.stdin is not None
                process.stdin.write("stop\n")
                process.stdin.flush()
            for process in workers:
                await asyncio.to_thread(process.wait, 60)
            seen_records = await records(session, urls["discord"])
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
        standins.stdin.close()
        standins.wait(10)
    answered, told = outcomes(seen_records)
    callbacks: dict[str, float] = seen_records["callbacks"]
    latencies = sorted(callbacks[k] - sent[k] for k in callbacks if k in sent)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    median = latencies[len(latencies) // 2] if latencies else float("nan")
    busy = {t: m for t, m in told.items() if any(w in m for w in BUSY_WORDS) and m != STORE_BUSY}
    store_busy = {t: m for t, m in told.items() if m == STORE_BUSY}  # the database pool ran dry: told, not lost
    errors = {t: m for t, m in told.items() if t not in busy and t not in store_busy}
    lost = args.count - len(answered) - len(told)
    where = f"{args.processes} processes" if args.processes > 1 else "one process"
    print(
        f"({label}, {where}) {args.count} /ask at once over {args.channels} channels in {args.servers} servers, "
        f"{args.server_limit} at once each: acknowledged {len(latencies)} (median {median:.2f} s, p99 {p99:.2f} s, "
        f"max {max(latencies, default=float('nan')):.2f} s) | answered in full {len(answered)} | refused as busy "
        f"{len(busy)} (store busy {len(store_busy)}) | lost {lost} | internal errors {len(errors)} | "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if busy:
        print(f"    busy message shown: {next(iter(busy.values()))!r}")
    for message in list(errors.values())[:3]:
        print(f"    error shown: {message!r}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--servers", type=int, default=6)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--server-limit", type=int, default=4)  # GUILD_MAX_CONCURRENT's default
    parser.add_argument("--processes", type=int, choices=[1, 2], default=1)
    parser.add_argument("--profile", action="store_true", help="where the worker's time goes until its last ack")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shard", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        await worker(args)
        return
    if args.database in ("sqlite", "both") and args.processes == 1:
        folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
        await run(f"sqlite+aiosqlite:///{folder / 'bot.db'}", "SQLite", args)
    elif args.database == "sqlite":
        print("(SQLite) two processes need PostgreSQL: SQLite is the one-process store")
    if args.database in ("postgresql", "both"):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("(PostgreSQL) skipped: no initdb on this machine")
            return
        server = PostgresServer(bin_dir)
        try:
            await run(server.start(), "PostgreSQL", args)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
