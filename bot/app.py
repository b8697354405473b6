"""The services the bot and the playground share, built once from settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.db.database import Database
from bot.generation.builder import build_registry
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService, Retention
from bot.services.personas import PersonaService
from bot.services.settings import PlaceSettingsService
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: ModelRegistry
    conversations: ConversationService
    personas: PersonaService
    places: PlaceSettingsService

    @classmethod
    async def open(cls, settings: Settings, registry: ModelRegistry | None = None) -> Services:
        db = await Database.open(settings.database_url)
        registry = registry or build_registry(settings)
        retention = Retention(settings.history_max_turns, timedelta(days=settings.history_max_age_days))
        return cls(
            settings=settings,
            db=db,
            registry=registry,
            conversations=ConversationService(db, registry, retention, max_prompt_chars=settings.max_prompt_chars),
            personas=PersonaService(db),
            places=PlaceSettingsService(db, registry),
        )

    async def close(self) -> None:
        await self.conversations.drain()
        self.registry.pool.close()
        await self.db.close()
