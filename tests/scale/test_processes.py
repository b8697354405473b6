"""Several bot processes on one real PostgreSQL: start together, write together, see each other's changes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bot.db.database import Database
from tests.standins.postgres import PostgresServer

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
