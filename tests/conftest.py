from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.domain import ChatMessage
from bot.generation.builder import build_registry
from bot.generation.local import LocalModelPool
from bot.generation.prompt import render_prompt
from bot.generation.registry import ModelRegistry
from bot.settings import Settings
from tests.standins.chat_server import ChatServer
from tests.standins.postgres import PostgresServer, find_bin_dir
from tests.standins.scripted import EchoBackend, ScriptedBackend

# The converted embedded model is kept between runs (gitignored); the first run builds it from the GGUF.
MODEL_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "models"


@pytest.fixture(scope="session")
async def smollm2_pool() -> AsyncIterator[LocalModelPool]:
    """The real packaged SmolLM2 in float32, loaded once for the whole run.

    float32 because several tests check exact equalities (a batched answer equals its solo answer) that bfloat16's
    rounding does not promise."""
    pool = LocalModelPool(cache_dir=MODEL_CACHE, dtype="float32")
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
    settings = Settings(_env_file=None, model_cache_dir=MODEL_CACHE)  # type: ignore[call-arg]
    reg = build_registry(settings)
    reg.register(ScriptedBackend())
    reg.register(EchoBackend())
    return reg


async def prompt_tokens(pool: LocalModelPool, name: str, messages: list[ChatMessage]) -> int:
    """Tokens the rendered prompt takes with the model's own tokenizer (what the model really sees)."""
    loaded = await pool.get(name)
    return len(loaded.tokenizer.encode(render_prompt(loaded.tokenizer, messages), add_special_tokens=False))


async def text_tokens(pool: LocalModelPool, name: str, text: str) -> int:
    loaded = await pool.get(name)
    return len(loaded.tokenizer.encode(text, add_special_tokens=False))
