"""The Discord bot: a `commands.Bot` built with its parts; `setup_hook` loads every cog and syncs commands."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import pkgutil
import signal

import discord
from discord.ext import commands

from bot.app import Services
from bot.discord_ui.ratelimit_trace import rate_limit_trace
from bot.discord_ui.recovery import recover_interrupted
from bot.generation.facade import set_speech_hook
from bot.settings import Settings
from bot.voice.manager import VoiceManager, make_engine

log = logging.getLogger(__name__)


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


class HFBot(commands.Bot):
    def __init__(self, services: Services, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix=_no_prefix,
            intents=intents or make_intents(),
            allowed_mentions=discord.AllowedMentions.none(),  # model output can never ping anyone
            help_command=None,
            http_trace=rate_limit_trace(services.pacers),
        )
        self.settings: Settings = services.settings
        self.admin_ids = services.settings.admin_user_ids
        self.answers = services.answers
        self.conversations = services.conversations
        self.personas = services.personas
        self.places = services.places
        self.registry = services.registry
        self.voice = services.voice
        self._recovered = False

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        guild_id = self.settings.dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("Synced %d application commands%s", len(synced), f" to guild {guild_id}" if guild_id else "")

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

    async def recover_after_crash(self) -> None:
        """Answers a crash left streaming (not this process's own): remove their marker and say so."""
        left = [t for t in await self.conversations.in_flight() if t.id not in self.answers.running_turns]
        if left:
            await recover_interrupted(self, self.conversations, left)

    async def close(self) -> None:
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
    try:
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
    finally:
        set_speech_hook(None)
        await services.close()
