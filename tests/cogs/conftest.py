from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Services
from bot.discord_bot import HFBot
from bot.generation.builder import build_registry
from bot.settings import Settings
from bot.voice.manager import VoiceManager, make_engine
from tests.conftest import MODEL_CACHE
from tests.standins.scripted import EchoBackend, ScriptedBackend


@pytest.fixture
def message_layout() -> str:
    """The cog tests read answers as plain content; tests/cogs/test_layout.py runs the default, Components V2."""
    return "classic"


@pytest.fixture
async def services(tmp_path: Path, message_layout: str) -> AsyncIterator[Services]:
    """Real services on a migrated SQLite file; scripted backends stand in for the model."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        model_cache_dir=MODEL_CACHE,
        user_cooldown_seconds=0,
        admin_user_ids=[],
        shard_count=1,  # the bot is auto-sharded; simcord runs it as one shard
        message_layout=message_layout,
    )
    registry = build_registry(settings)
    registry.register(ScriptedBackend())
    registry.register(EchoBackend())
    registry.default_model = "scripted"
    voice = VoiceManager(make_engine("espeak"), idle_seconds=5)
    opened = await Services.open(settings, registry, voice)
    yield opened
    await opened.close()


@pytest.fixture
def simcord_bot(services: Services) -> HFBot:
    return HFBot(services)
