"""The composition root: every long-lived part of the bot, built once from settings and closed once, in reverse.

`Services.open` opens them in order (database, model pool and registry, voice, the services and the answer
pipeline, the seed API over the running registry, the operations endpoint) on one `AsyncExitStack`, so closing
(`close()`, or leaving `async with`) undoes exactly what was opened. The Discord bot and the terminal playground are
both handed a `Services`; nothing below builds its own settings or reaches back here.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType

from bot.answers.limits import Cooldown, GuildGate
from bot.answers.service import AnswerService
from bot.db.database import Database
from bot.db.engine import PoolSettings
from bot.generation import facade
from bot.generation.builder import build_registry
from bot.generation.local_kind import LocalKind, check_local_extra
from bot.generation.registry import ModelRegistry
from bot.ops.checks import Check
from bot.services.conversation import ConversationService
from bot.services.cooldowns import Cooldowns, SharedCooldowns
from bot.services.leases import ProcessLease
from bot.services.origins import ThreadOrigins
from bot.services.personas import PersonaService
from bot.services.readiness import store_checks
from bot.services.retention import Retention
from bot.services.settings import PlaceSettingsService
from bot.services.tools import ToolService
from bot.services.usage import UsageService
from bot.settings import Settings
from bot.streaming.pacing import PacerRegistry
from bot.tools.mcp import McpManager
from bot.tools.stage import ToolLimits
from bot.voice.hearing import Hearing
from bot.voice.manager import VoiceManager
from bot.voice.stt import Transcriber, make_transcriber

log = logging.getLogger(__name__)


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
    lease: ProcessLease
    origins: ThreadOrigins
    tools: ToolService
    transcriber: Transcriber | None = None  # speech to text for voice messages (None: listening is off/unusable)
    readiness: dict[str, Check] = field(default_factory=dict)  # what `/readyz` asks; the bot adds its gateway
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        registry: ModelRegistry | None = None,
        voice: VoiceManager | None = None,
        serve_ops: bool = False,
        owner_key: str | None = None,
    ) -> Services:
        """Open everything; `registry` and `voice` replace the ones settings describe (tests, the playground
        without voice). `serve_ops` starts the operations endpoint when `METRICS_PORT` is set. `owner_key` says
        what this process is for its answers in flight (default: its shards)."""
        stack = AsyncExitStack()
        try:
            return await cls._open(stack, settings, registry, voice, serve_ops, owner_key or settings.owner_key())
        except BaseException:
            await stack.aclose()
            raise

    @classmethod
    async def _open(
        cls,
        stack: AsyncExitStack,
        settings: Settings,
        registry: ModelRegistry | None,
        voice: VoiceManager | None,
        serve_ops: bool,
        owner_key: str,
    ) -> Services:
        if registry is None:
            check_local_extra(settings)  # before anything opens: a configuration mistake starts nothing
        pool = PoolSettings(settings.database_pool_size, settings.database_max_overflow, settings.database_pool_timeout)
        db = await Database.open(settings.database_url, pool=pool)
        stack.push_async_callback(db.close)
        lease = ProcessLease(db, owner_key, settings.process_lease_seconds)
        await lease.start()
        stack.push_async_callback(lease.close)
        local = None
        if registry is None:
            local = LocalKind(settings)  # imports torch only when a local model is first used
            registry = build_registry(settings, local)
        stack.callback(registry.close)
        transcriber: Transcriber | None = None
        if settings.listening:  # one speech-to-text engine (and one VAD) for every guild and voice message
            hearing = Hearing(_transcriber(settings), settings.wake_words)
            stack.callback(hearing.close)  # after voice.close (reverse order): listening stops first
            if (problem := hearing.stt.check()) is None:
                transcriber = hearing.stt
            else:
                log.warning("Voice messages can't be transcribed: %s", problem)
            if voice is not None:
                voice.use_hearing(hearing)
        if voice is not None:
            stack.push_async_callback(voice.close)
        tools = ToolService(
            db,
            limits=ToolLimits(settings.tool_max_rounds, settings.tool_timeout_seconds, settings.tool_output_chars),
            time_zone=settings.time_zone,
        )
        mcp = McpManager(settings.mcp_servers, settings.mcp_ping_seconds)
        await mcp.start()  # a server that fails is logged and left out; /readyz names it
        stack.push_async_callback(mcp.close)
        tools.catalogue.add_source(mcp)
        retention = Retention(settings.history_max_turns, timedelta(days=settings.history_max_age_days))
        conversations = ConversationService(
            db,
            registry,
            retention,
            max_prompt_chars=settings.max_prompt_chars,
            max_new_tokens=settings.max_new_tokens,
            seed=settings.generation_seed,
            owner=lease.instance,
            tools=tools,
        )
        stack.push_async_callback(conversations.drain)
        pacers = PacerRegistry()
        usage = UsageService(db, settings.quota_member_daily_tokens, settings.quota_server_daily_tokens)
        answers = AnswerService(
            conversations,
            pacers,
            _cooldowns(settings, db),
            GuildGate(settings.guild_max_concurrent),
            usage,
            settings.max_prompt_chars,
            settings.reasoning_display,
        )
        stack.push_async_callback(answers.shutdown)  # first to run: answers finish while everything else is open
        # The seed API, in this process, is a view over this registry (no second copy of any model).
        seed = facade.HuggingFaceGenerator(settings, registry, local, voice.speak_anywhere if voice else None)
        facade.use_generator(seed)
        stack.callback(facade.use_generator, None)
        services = cls(
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
            lease=lease,
            origins=ThreadOrigins(db),
            tools=tools,
            transcriber=transcriber,
            readiness=store_checks(db, registry),
            _stack=stack,
        )
        if settings.mcp_servers:
            services.readiness["mcp_servers"] = mcp.check
        if serve_ops and settings.metrics_port is not None:
            from bot.ops.server import OpsServer  # the web server's side of aiohttp only when it is asked for

            ops = OpsServer(settings.metrics_host, settings.metrics_port, services.readiness)
            await ops.start()
            stack.push_async_callback(ops.stop)
        return services

    async def close(self) -> None:
        """Close everything once, in reverse order of opening (calling it again does nothing)."""
        await self._stack.aclose()

    async def __aenter__(self) -> Services:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


def _cooldowns(settings: Settings, db: Database) -> Cooldown:
    # One process on SQLite keeps cooldowns in memory; processes sharing PostgreSQL keep them there.
    if settings.database_backend() == "postgresql":
        return SharedCooldowns(db, settings.user_cooldown_seconds)
    return Cooldowns(settings.user_cooldown_seconds)


def _transcriber(settings: Settings) -> Transcriber:
    return make_transcriber(
        settings.stt_engine,
        model=settings.stt_model,
        url=settings.stt_url,
        api_key=settings.stt_api_key.get_secret_value() if settings.stt_api_key else None,
        token=settings.hf_token.get_secret_value() if settings.hf_token else None,
        provider=settings.hf_provider,
        threads=settings.stt_threads,
    )
