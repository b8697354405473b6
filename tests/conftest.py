from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pathlib import Path

from bot.generation.local import LocalModelPool
from tests.standins.chat_server import ChatServer


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
