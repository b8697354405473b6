"""The long-lived parts of the bot, built once from settings by the composition root and closed together.

Each part gets what it needs passed in explicitly; nothing below builds its own settings or reaches back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.answers.limits import Cooldowns, GuildGate, SharedCooldowns
from bot.answers.service import AnswerService
from bot.db.database import Database
from bot.db.engine import PoolSettings
from bot.generation.builder import build_registry
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService, Retention
from bot.services.personas import PersonaService
from bot.services.settings import PlaceSettingsService
from bot.services.usage import UsageService
from bot.settings import Settings
from bot.streaming.pacing import PacerRegistry
from bot.voice.manager import VoiceManager


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: ModelRegistry
    conversations: ConversationService
    personas: PersonaService
    places: PlaceSettingsService
    pacers: PacerRegistry
    answers: AnswerService
    usage: UsageService
    voice: VoiceManager | None

    @classmethod
    async def open(
        cls, settings: Settings, registry: ModelRegistry | None = None, voice: VoiceManager | None = None
    ) -> Services:
        pool = PoolSettings(settings.database_pool_size, settings.database_max_overflow, settings.database_pool_timeout)
        db = await Database.open(settings.database_url, pool=pool)
        registry = registry or build_registry(settings)
        retention = Retention(settings.history_max_turns, timedelta(days=settings.history_max_age_days))
        conversations = ConversationService(
            db,
            registry,
            retention,
            max_prompt_chars=settings.max_prompt_chars,
            max_new_tokens=settings.max_new_tokens,
            seed=settings.generation_seed,
        )
        pacers = PacerRegistry()
        usage = UsageService(db, settings.quota_member_daily_tokens, settings.quota_server_daily_tokens)
        answers = AnswerService(
            conversations,
            pacers,
            # One process on SQLite keeps cooldowns in memory; processes sharing PostgreSQL keep them there.
            SharedCooldowns(db, settings.user_cooldown_seconds)
            if settings.database_backend() == "postgresql"
            else Cooldowns(settings.user_cooldown_seconds),
            GuildGate(settings.guild_max_concurrent),
            settings.admin_user_ids,
            settings.max_prompt_chars,
            voice,
            settings.reasoning_display,
            usage,
        )
        return cls(
            settings=settings,
            db=db,
            registry=registry,
            conversations=conversations,
            personas=PersonaService(db),
            places=PlaceSettingsService(db, registry),
            pacers=pacers,
            answers=answers,
            usage=usage,
            voice=voice,
        )

    async def close(self) -> None:
        await self.answers.shutdown()
        if self.voice is not None:
            await self.voice.close()
        await self.conversations.drain()
        self.registry.close()
        await self.db.close()
