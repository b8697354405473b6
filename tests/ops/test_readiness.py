"""/readyz turns 503 while PostgreSQL is unreachable and back to 200 when it returns; the bot keeps running."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import Services
from bot.generation.builder import build_registry
from bot.ops.server import OpsServer
from bot.settings import Settings
from tests.conftest import MODEL_CACHE
from tests.ops.conftest import get
from tests.standins.postgres import PostgresServer, find_bin_dir
from tests.standins.scripted import ScriptedBackend


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def services(own_postgres: PostgresServer, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=own_postgres.create_database("ready"),
        model_cache_dir=MODEL_CACHE,
        user_cooldown_seconds=0,
        shard_count=1,
    )
    registry = build_registry(settings)
    registry.register(ScriptedBackend())
    registry.default_model = "scripted"
    opened = await Services.open(settings, registry)
    yield opened
    await opened.close()


async def test_readiness_follows_the_database(
    simcord_env, services: Services, ops: OpsServer, own_postgres: PostgresServer
) -> None:
    status, _ = await get(ops, "/readyz")
    assert status == 200

    own_postgres.pause()
    status, body = await get(ops, "/readyz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert checks["database"]["ready"] is False and checks["database"]["detail"]
    assert checks["gateway"] == {"ready": True}
    status, _ = await get(ops, "/healthz")
    assert status == 200  # alive, only not ready: an orchestrator should wait, not restart it

    own_postgres.resume()
    status, body = await get(ops, "/readyz")
    assert status == 200, body
