"""The Discord bot: a `commands.Bot` built with its parts; `setup_hook` loads every cog and syncs commands."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import pkgutil
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord.ext import commands
from sqlalchemy import text

from bot.app import Services
from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.discord_ui.recovery import recover_interrupted
from bot.generation.builder import api_endpoints
from bot.generation.endpoints import unreachable
from bot.generation.facade import set_speech_hook
from bot.ops import metrics
from bot.ops.server import Check, OpsServer
from bot.settings import Settings
from bot.voice.manager import VoiceManager, make_engine

log = logging.getLogger(__name__)

LEFT_BEHIND_SECONDS = 900  # no answer streams this long: older ones still marked streaming were left by a crash
SWEEP_SECONDS = 300


def extension_names() -> list[str]:
    """Every module in `cogs/` (files starting with `_` are helpers, not extensions)."""
    spec = importlib.util.find_spec("cogs")
    assert spec is not None and spec.submodule_search_locations is not None
    return sorted(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(spec.submodule_search_locations)
        if not module.name.startswith("_")
    )


def make_intents(message_content: bool = True) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = message_content  # privileged: enable it in the developer portal
    intents.voice_states = True
    return intents


def _no_prefix(_bot: commands.Bot, _message: discord.Message) -> list[str]:
    return []  # slash commands only: no message ever parses as a prefix command


def shards(settings: Settings) -> dict[str, Any]:
    """AutoShardedBot's shard arguments; none when unset (then Discord's recommended count, all in this process)."""
    given: dict[str, Any] = {}
    if settings.shard_count is not None:
        given["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        given["shard_ids"] = settings.shard_ids
    return given


class HFBot(commands.AutoShardedBot):
    def __init__(self, services: Services, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix=_no_prefix,
            intents=intents or make_intents(),
            allowed_mentions=discord.AllowedMentions.none(),  # model output can never ping anyone
            help_command=None,
            # Commands are for servers that invite the bot unless they declare user installs too (`/ask` and the
            # message menus do): admin settings and voice need the bot in the server.
            allowed_installs=discord.app_commands.AppInstallationType(guild=True, user=False),
            http_trace=rate_limit_trace(services.pacers),
            proxy=services.settings.discord_proxy,
            **shards(services.settings),
        )
        self.settings: Settings = services.settings
        self.admin_ids = services.settings.admin_user_ids
        self.answers = services.answers
        self.conversations = services.conversations
        self.personas = services.personas
        self.places = services.places
        self.registry = services.registry
        self.voice = services.voice
        self.usage = services.usage
        self.db = services.db
        self.started_at = time.monotonic()
        self._recovered = False
        self._warming: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        guild_id = self.settings.dev_guild_id
        if not self.settings.sync_commands:
            log.info("Not syncing application commands (SYNC_COMMANDS=false: another process does)")
        elif guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d application commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d application commands", len(synced))
        metrics.gateway_latency.set_function(lambda: self.latency if math.isfinite(self.latency) else 0.0)
        if self.registry.needs_loading(self.registry.default_model):
            self._warming = asyncio.create_task(self._warm_default_model())

    async def _warm_default_model(self) -> None:
        """Load a local default model now rather than on the first question (readiness waits for it)."""
        try:
            await self.registry.backend(self.registry.default_model).context_window()
            log.info("Default model %s is loaded", self.registry.default_model)
        except Exception:
            log.exception("Could not load the default model %s", self.registry.default_model)

    def readiness_checks(self) -> dict[str, Check]:
        """What `/readyz` asks: connected to Discord, the database answers, the default model is loaded."""

        async def gateway() -> str | None:
            return None if self.is_ready() and not self.is_closed() else "not connected to Discord"

        async def database() -> str | None:
            async with self.db.sessions() as session:
                await session.execute(text("SELECT 1"))
            return None

        async def model() -> str | None:
            name = self.registry.default_model
            return f"default model {name} is still loading" if self.registry.needs_loading(name) else None

        async def endpoints() -> str | None:
            down = await unreachable(api_endpoints(self.registry))
            return "; ".join(f"{url} unreachable ({why})" for url, why in down.items()) or None

        return {"gateway": gateway, "database": database, "default_model": model, "model_endpoints": endpoints}

    async def on_message(self, message: discord.Message) -> None:
        return None  # no prefix commands; the conversation cog listens for the messages it answers

    async def on_ready(self) -> None:
        log.info("Logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))
        if not self.intents.message_content:
            log.warning(
                "The Message Content intent is off: persona conversations answer only mentions and DMs. "
                "Enable it in the Discord developer portal (Bot → Privileged Gateway Intents) for channel chat."
            )
        if not self._recovered:  # once per process: on_ready fires again after every reconnect
            self._recovered = True
            await self.recover_after_crash()
            if self.shared_database:
                self._sweeping = asyncio.create_task(self._sweep_left_behind())

    @property
    def shared_database(self) -> bool:
        """On PostgreSQL, other processes of the bot may be answering right now."""
        return self.settings.database_backend() == "postgresql"

    async def recover_after_crash(self) -> None:
        """Answers a crash left streaming (not this process's own): remove their marker and say so.

        Alone on SQLite, every answer still streaming at start was left by a crash. Sharing PostgreSQL, an answer
        may be streaming in another process, so only answers older than any answer lasts are taken as left behind
        (and a sweep every few minutes catches those a crashed process leaves later).
        """
        left = [t for t in await self.conversations.in_flight() if t.id not in self.answers.running_turns]
        if self.shared_database:
            cutoff = datetime.now(UTC) - timedelta(seconds=LEFT_BEHIND_SECONDS)
            left = [t for t in left if t.created_at < cutoff]
        if left:
            await recover_interrupted(self, self.conversations, left)

    async def _sweep_left_behind(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.recover_after_crash()
            except Exception:
                log.exception("Sweeping answers left behind failed; trying again later")

    async def close(self) -> None:
        if self._sweeping is not None:
            self._sweeping.cancel()
        await self.answers.shutdown()
        if self.voice is not None:
            await self.voice.close()
        await super().close()

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        gone = self.user is not None and member.id == self.user.id and after.channel is None
        if gone and self.voice is not None:
            await self.voice.leave(member.guild.id)  # disconnected or kicked: drop the player and its queue


async def run_discord_bot(settings: Settings) -> int:
    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value()
    voice = VoiceManager(
        make_engine(settings.tts_engine, settings.google_application_credentials), settings.voice_idle_seconds
    )
    set_speech_hook(voice.speak_anywhere)  # the seed API's `speak=True` speaks where the bot is in voice
    services = await Services.open(settings, voice=voice)
    for url, why in (await unreachable(api_endpoints(services.registry))).items():
        log.warning("Model server %s is unreachable (%s); its models will fail until it answers", url, why)
    ops: OpsServer | None = None
    try:
        for message_content in (True, False):
            bot = HFBot(services, make_intents(message_content))
            if settings.metrics_port is not None:
                if ops is not None:
                    await ops.stop()
                ops = OpsServer(settings.metrics_host, settings.metrics_port, bot.readiness_checks())
                await ops.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, lambda b=bot: asyncio.ensure_future(b.close()))  # type: ignore[misc]
            try:
                async with bot:
                    await bot.start(token)
                return 0
            except discord.PrivilegedIntentsRequired:
                log.warning("Message Content intent not approved for this bot; starting without it.")
            except discord.LoginFailure:
                log.error("Discord refused the token. Check DISCORD_TOKEN.")
                return 1
        return 1
    finally:
        set_speech_hook(None)
        if ops is not None:
            await ops.stop()
        await services.close()
