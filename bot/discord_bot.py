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

from bot.app import Services
from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.discord_ui.recovery import recover_interrupted
from bot.discord_ui.surface_factory import DiscordSurfaces
from bot.generation.builder import api_endpoints
from bot.generation.endpoints import unreachable
from bot.ops import metrics
from bot.ops.checks import Check
from bot.settings import Settings
from bot.voice.manager import VoiceManager, make_engine

log = logging.getLogger(__name__)

LEFT_BEHIND_SECONDS = 900  # no answer streams this long: an unowned one still marked streaming was left by a crash
SWEEPS_PER_LEASE = 2


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
    """The Discord side of the bot. It is handed the running services and closes only what is Discord's: the
    composition root that opened the services closes them."""

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
        self.services = services
        self.settings: Settings = services.settings
        self.surfaces = DiscordSurfaces(
            services.voice, services.settings.admin_user_ids, services.settings.message_layout
        )
        services.readiness["gateway"] = self._gateway_ready
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
        registry = self.services.registry
        if registry.needs_loading(registry.default_model):
            self._warming = asyncio.create_task(self._warm_default_model())

    async def _warm_default_model(self) -> None:
        """Load a local default model now rather than on the first question (readiness waits for it)."""
        name = self.services.registry.default_model
        try:
            await self.services.registry.backend(name).context_window()
            log.info("Default model %s is loaded", name)
        except Exception:
            log.exception("Could not load the default model %s", name)

    def readiness_checks(self) -> dict[str, Check]:
        """What `/readyz` asks: connected to Discord, and the services' own checks (database, models)."""
        return self.services.readiness

    async def _gateway_ready(self) -> str | None:
        return None if self.is_ready() and not self.is_closed() else "not connected to Discord"

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
                self._sweeping = asyncio.create_task(self.watch_left_behind())

    @property
    def shared_database(self) -> bool:
        """On PostgreSQL, other processes of the bot may be answering right now."""
        return self.settings.database_backend() == "postgresql"

    async def recover_after_crash(self) -> None:
        """Answers a gone process left streaming: remove their marker, say so, store them as interrupted.

        Each answer in flight names the process streaming it, and each process holds a lease. This process's own
        previous instance (the same shards, restarted) is gone by definition, so its leftovers are mended as soon as
        this one is connected; another process's are taken over once its lease has lapsed. Answers a live process
        is streaming are never touched. Rows from before owners were recorded fall back to their age.
        """
        services = self.services
        taken = await services.lease.leftovers()
        cutoff = datetime.now(UTC) - timedelta(seconds=LEFT_BEHIND_SECONDS) if self.shared_database else None
        left = [
            t
            for t in await services.conversations.in_flight()
            if (t.id in taken or (t.owner is None and (cutoff is None or t.created_at < cutoff)))
            and t.id not in services.answers.running_turns
        ]
        if left:
            await recover_interrupted(self, services.conversations, left)

    async def watch_left_behind(self) -> None:
        """Look for gone processes' answers a few times per lease, so they are taken over soon after it lapses."""
        while True:
            await asyncio.sleep(self.settings.process_lease_seconds / SWEEPS_PER_LEASE)
            try:
                await self.recover_after_crash()
            except Exception:
                log.exception("Sweeping answers left behind failed; trying again later")

    async def close(self) -> None:
        """Discord's part of shutting down: running answers finish (or are stopped) while the gateway is still
        up, then the connection closes. The composition root closes the services afterwards."""
        if self._sweeping is not None:
            self._sweeping.cancel()
        await self.services.answers.shutdown()
        await super().close()

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        gone = self.user is not None and member.id == self.user.id and after.channel is None
        if gone and self.services.voice is not None:
            await self.services.voice.leave(member.guild.id)  # disconnected or kicked: drop the player and its queue


async def run_discord_bot(settings: Settings) -> int:
    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value()
    voice = VoiceManager(
        make_engine(settings.tts_engine, settings.google_application_credentials), settings.voice_idle_seconds
    )
    async with await Services.open(settings, voice=voice, serve_ops=True) as services:
        for url, why in (await unreachable(api_endpoints(services.registry))).items():
            log.warning("Model server %s is unreachable (%s); its models will fail until it answers", url, why)
        for message_content in (True, False):
            bot = HFBot(services, make_intents(message_content))
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
