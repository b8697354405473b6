from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.generation.hf_api import ApiConfig
from bot.generation.local import LocalModelPool
from bot.generation.registry import ModelRegistry
from tests.standins.chat_server import ChatServer
from tests.standins.postgres import PostgresServer, find_bin_dir
from tests.standins.scripted import EchoBackend, ScriptedBackend

# The converted embedded model is kept between runs (gitignored); the first run builds it from the GGUF.
MODEL_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "models"


@pytest.fixture(scope="session")
async def smollm2_pool() -> AsyncIterator[LocalModelPool]:
    """The real packaged SmolLM2, loaded once for the whole run."""
    pool = LocalModelPool(cache_dir=MODEL_CACHE)
    await pool.get("smollm2")
    yield pool
    pool.close()


@pytest.fixture
async def chat_server() -> AsyncIterator[ChatServer]:
    server = await ChatServer().start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries are missing: run `make test` (it installs Debian's postgresql).")
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.stop()


_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL of each kind (not yet migrated)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{next(_db_counter)}")


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A migrated database of each kind."""
    db = await Database.open(db_url)
    yield db
    await db.close()


@pytest.fixture
def registry() -> ModelRegistry:
    """The configured models (embedded SmolLM2 by name only) plus scripted and echo backends."""
    reg = ModelRegistry(ApiConfig(), LocalModelPool(cache_dir=MODEL_CACHE), local_models=[], api_models=[])
    reg.register(ScriptedBackend())
    reg.register(EchoBackend())
    return reg
