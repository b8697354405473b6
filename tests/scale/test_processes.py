"""Several bot processes on one real PostgreSQL: start together, write together, see each other's changes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db.database import Database
from tests.standins.postgres import PostgresServer

# Ten bot processes on PostgreSQL, killed and restarted: minutes, not seconds, on a busy machine.
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[2]


def env_for(url: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DISCORD_", "HF_"))}
    return {**keep, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), **extra}


# Each process imports everything first (the slow part), then waits for the same instant to migrate, so the ten
# migrations really overlap instead of being spread out by start-up time.
MIGRATE_AT = """
import sys, time
from bot.db.migrate import upgrade_blocking
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade_blocking(sys.argv[1])
"""


async def test_ten_processes_starting_at_once_migrate_once_and_all_start(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("ten_at_once")
    at = str(time.time() + 6)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", MIGRATE_AT, url, at, env=env_for(url), cwd=ROOT, stderr=subprocess.PIPE
        )
        for _ in range(10)
    ]
    results = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0] * 10, [err.decode()[-800:] for _, err in results]
    db = await Database.open(url, migrate=False)
    async with db.engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        builtins = await conn.scalar(text("SELECT count(*) FROM personas WHERE builtin"))
    await db.close()
    assert len(versions) == 1  # one schema version, migrated once
    assert builtins == 4  # the data migration ran once, not ten times


async def test_shard_settings_and_the_proxy_reach_the_client(tmp_path: Path) -> None:
    from bot.app import Services
    from bot.discord_bot import HFBot
    from bot.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        shard_count="8",
        shard_ids="2-3, 6",
        discord_proxy="http://127.0.0.1:3128",
        sync_commands="false",
    )
    services = await Services.open(settings)
    try:
        bot = HFBot(services)
        assert (bot.shard_count, bot.shard_ids) == (8, [2, 3, 6])
        assert bot.http.proxy == "http://127.0.0.1:3128"
        assert bot.settings.sync_commands is False
    finally:
        await services.close()


# A second bot process: its own full service stack on the same PostgreSQL, driven through the same public entry
# points the cogs use. It writes its half of the conversation, takes a cooldown, then watches for a persona change.
OTHER_PROCESS = """
import asyncio, json, sys, time
from bot.app import Services
from bot.domain import Asker, Place
from bot.generation.registry import ModelRegistry
from bot.settings import Settings
from tests.standins.scripted import ScriptedBackend

async def main(url, start_at):
    settings = Settings(_env_file=None, database_url=url, user_cooldown_seconds=60)
    registry = ModelRegistry("scripted")
    registry.register(ScriptedBackend())
    services = await Services.open(settings, registry)
    place = Place(1, 99)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    for i in range(60):
        await services.conversations.answer_text(place, Asker(2, "bea"), f"B{i}")
    await services.answers.cooldowns.check(7)  # user 7 asks here first
    print("cooldown started", flush=True)
    seen_at = None
    deadline = time.time() + 20
    while time.time() < deadline:
        resolved = await services.places.resolved(place)
        if resolved.persona is not None and resolved.persona.name == "storyteller":
            seen_at = time.time()
            break
        await asyncio.sleep(0.05)
    print(json.dumps({"persona_seen_at": seen_at}), flush=True)
    await services.close()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


async def test_two_processes_share_history_cooldowns_and_settings(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    from bot.app import Services
    from bot.db import history
    from bot.domain import Asker, Place
    from bot.errors import BusyError
    from bot.generation.registry import ModelRegistry
    from bot.settings import Settings
    from tests.standins.scripted import ScriptedBackend

    url = postgres_server.create_database("two_processes")
    settings = Settings(_env_file=None, database_url=url, user_cooldown_seconds=60)  # type: ignore[call-arg]
    registry = ModelRegistry("scripted")
    registry.register(ScriptedBackend())
    services = await Services.open(settings, registry)
    place = Place(1, 99)
    start_at = time.time() + 4
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OTHER_PROCESS,
        url,
        str(start_at),
        env=env_for(url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        for i in range(60):  # at the same time as the other process, into the same channel
            await services.conversations.answer_text(place, Asker(1, "ann"), f"A{i}")
        assert other.stdout is not None
        line = await asyncio.wait_for(other.stdout.readline(), 60)
        assert line.strip() == b"cooldown started"
        with pytest.raises(BusyError, match="Slow down a little"):  # honoured here, though taken there
            await services.answers.cooldowns.check(7)
        changed_at = time.time()
        await services.personas.use(place, "channel", "storyteller", actor_id=1)
        out, err = await asyncio.wait_for(other.communicate(), 60)
    finally:
        if other.returncode is None:
            other.kill()
    assert other.returncode == 0, err.decode()[-1500:]
    seen_at = json.loads(out.decode().strip().splitlines()[-1])["persona_seen_at"]
    assert seen_at is not None and seen_at - changed_at <= 1.0  # in force in the other process within a second

    async with services.db.sessions() as session:
        turns = await history.recent_turns(session, place.channel_id, 1000)
    await services.close()
    users = [t.content for t in turns if t.role == "user"]
    assert len(turns) == 240  # every question and answer of both processes, none lost
    assert [u for u in users if u.startswith("A")] == [f"A{i}" for i in range(60)]  # each process's order kept
    assert [u for u in users if u.startswith("B")] == [f"B{i}" for i in range(60)]
    assert all(t.status == "complete" for t in turns)


async def test_a_live_process_keeps_its_answers_and_a_lapsed_one_is_taken_over(
    postgres_server: PostgresServer,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from bot.app import Services
    from bot.db.models import ProcessRow
    from bot.discord_bot import HFBot
    from bot.domain import Asker, Place
    from bot.generation.registry import ModelRegistry
    from bot.settings import Settings
    from tests.standins.scripted import ScriptedBackend

    url = postgres_server.create_database("recovery")
    opened = []
    for shard in ("0", "1"):
        settings = Settings(_env_file=None, database_url=url, shard_count=2, shard_ids=shard)  # type: ignore[call-arg]
        registry = ModelRegistry("scripted")
        registry.register(ScriptedBackend())
        opened.append(await Services.open(settings, registry))
    first, second = opened
    try:
        streaming = await first.conversations.start(Place(1, 5), Asker(1, "ann"), "still being answered")
        await HFBot(second).recover_after_crash()  # another process starting: the live one's answer is left alone
        assert {t.id for t in await second.conversations.in_flight()} == {streaming.answer_turn_id}
        async with first.db.writes.begin() as session:  # the first process stops renewing its lease
            lapsed = datetime.now(UTC) - timedelta(seconds=first.settings.process_lease_seconds + 1)
            await session.execute(
                update(ProcessRow).where(ProcessRow.instance == first.lease.instance).values(heartbeat_at=lapsed)
            )
        await HFBot(second).recover_after_crash()
        assert await second.conversations.in_flight() == []  # taken over and marked: nothing shown, so dropped
    finally:
        for services in opened:
            await services.close()


# A bot process on one shard: it recovers what its shard left (as on_ready does), then either streams three slow
# answers (and is killed), or watches for other processes' leftovers (as a live shard does).
SHARD_PROCESS = """
import asyncio, json, sys, time
from bot.app import Services
from bot.discord_bot import HFBot
from bot.domain import Asker, Place
from bot.generation.registry import ModelRegistry
from bot.settings import Settings
from tests.standins.scripted import ScriptedBackend

async def main(url, shard, mode, lease):
    settings = Settings(
        _env_file=None, database_url=url, shard_count=2, shard_ids=shard, process_lease_seconds=float(lease)
    )
    registry = ModelRegistry("slow")
    registry.register(ScriptedBackend(name="slow", text="a b c d e f g h i j k l m n o p", delay=1.0))
    async with await Services.open(settings, registry) as services:
        bot = HFBot(services)
        await bot.recover_after_crash()
        print(json.dumps({"recovered_at": time.time()}), flush=True)
        if mode == "answer":
            async def answer(i):
                await services.conversations.answer_text(Place(1, 10 * int(shard) + i), Asker(i, "ann"), "count")
            tasks = [asyncio.create_task(answer(i)) for i in range(3)]
            while len(await services.conversations.in_flight()) < 3:
                await asyncio.sleep(0.05)
            print(json.dumps({"streaming": [t.id for t in await services.conversations.in_flight()]}), flush=True)
            await asyncio.gather(*tasks)
        elif mode == "watch":
            await bot.watch_left_behind()

asyncio.run(main(*sys.argv[1:5]))
"""


async def _shard(url: str, shard: str, mode: str, lease: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SHARD_PROCESS,
        url,
        shard,
        mode,
        str(lease),
        env=env_for(url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )


async def _line(process: asyncio.subprocess.Process, key: str) -> object:
    assert process.stdout is not None
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line, f"the process ended before it said {key}"
        found = json.loads(line)
        if key in found:
            return found[key]


async def _streaming(db: Database) -> set[int]:
    async with db.engine.connect() as conn:
        return set((await conn.execute(text("SELECT id FROM turns WHERE status = 'streaming'"))).scalars())


async def _killed_mid_answer(url: str, processes: list[asyncio.subprocess.Process], lease: float) -> set[int]:
    """Shard 0 starts three slow answers and is killed while they stream; returns their ids."""
    shard = await _shard(url, "0", "answer", lease)
    processes.append(shard)
    left = set(await _line(shard, "streaming"))  # type: ignore[call-overload]
    shard.kill()
    await shard.wait()
    return left


async def _no_longer_streaming(db: Database, left: set[int], since: float, within: float, what: str) -> float:
    """Seconds from `since` until none of `left` is marked streaming; fails past `within`."""
    while left & await _streaming(db):
        assert time.time() - since < within, f"{what} answers within {within} s"
        await asyncio.sleep(0.1)
    return time.time() - since


async def test_a_killed_shard_restarted_mends_its_answers_at_once_and_a_gone_one_is_taken_over(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database("killed_shard")
    db = await Database.open(url)  # migrated once before the processes start
    processes: list[asyncio.subprocess.Process] = []
    try:
        # Restarted: shard 0 is killed mid-answer and started again; its new process mends the three at once. The
        # lease is long here, so only knowing its own shards (not a lapsed lease) can mend them within 10 s.
        left = await _killed_mid_answer(url, processes, lease=60)
        restarted_at = time.time()
        again = await _shard(url, "0", "recover", lease=60)
        processes.append(again)
        mended_after = await _no_longer_streaming(db, left, restarted_at, 10, "a restarted shard mends its own")
        print(f"restarted shard mended its answers {mended_after:.1f} s after its restart")
        await again.wait()
        # Never back: shard 0 is killed again and stays down; the live shard 1 takes its answers over once the
        # 3 s lease has lapsed (within a minute of that).
        watcher = await _shard(url, "1", "watch", lease=3)
        processes.append(watcher)
        await _line(watcher, "recovered_at")
        left = await _killed_mid_answer(url, processes, lease=3)
        taken_after = await _no_longer_streaming(db, left, time.time(), 3 + 60, "a gone shard's are taken over")
        print(f"a gone shard's answers were taken over {taken_after:.1f} s after it was killed (lease 3 s)")
        assert taken_after >= 3 * 0.5  # not before its lease could have lapsed: it was not taken for dead early
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await db.close()
