"""Voice connections per guild: joining, leaving, the start-up check, and the player for each guild."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import logging
from pathlib import Path

import discord

from bot.domain import Persona
from bot.errors import BotError
from bot.voice.engines import EspeakEngine, GoogleEngine, SpeechEngine
from bot.voice.player import GuildPlayer
from bot.voice.text_prep import sentences, speakable

log = logging.getLogger(__name__)


def voice_problems() -> list[str]:
    """What keeps voice from working on this machine (empty when it can work)."""
    problems = []
    if not discord.opus.is_loaded():
        with contextlib.suppress(OSError):
            discord.opus._load_default()
        if not discord.opus.is_loaded():
            problems.append("libopus is missing (Debian: apt-get install libopus0)")
    for module, package in (("nacl", "PyNaCl"), ("davey", "davey")):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{package} is missing (pip install 'discord.py[voice]')")
    return problems


def make_engine(name: str, google_credentials: Path | None = None) -> SpeechEngine:
    if name != "google":
        return EspeakEngine()
    if google_credentials is None:
        return GoogleEngine()  # reports itself unusable at start-up: no key file configured
    from google.oauth2 import service_account

    return GoogleEngine(credentials=service_account.Credentials.from_service_account_file(str(google_credentials)))


class VoiceManager:
    def __init__(self, engine: SpeechEngine, idle_seconds: float) -> None:
        self.engine, self.idle_seconds = engine, idle_seconds
        self.players: dict[int, GuildPlayer] = {}  # by guild id, in the order they joined
        self._seed_ids = itertools.count(1_000_000)  # answer ids for the seed API's speech, apart from the bot's
        self.problems = voice_problems()
        if missing := engine.check():
            self.problems.append(missing)
        if self.problems:
            log.warning("Voice is unavailable (text keeps working): %s", "; ".join(self.problems))

    def player(self, guild_id: int) -> GuildPlayer | None:
        player = self.players.get(guild_id)
        if player is not None and (player.closed.is_set() or not player.connection.is_connected()):
            self.players.pop(guild_id, None)
            return None
        return player

    async def join(self, member: discord.Member) -> GuildPlayer:
        """Join (or move to) the member's voice channel; raise a BotError saying why not."""
        if self.problems:
            raise BotError("Voice is not available on this bot: " + "; ".join(self.problems) + ".")
        channel = member.voice.channel if member.voice else None
        if channel is None:
            raise BotError("Join a voice channel first, then ask me to speak.")
        me = member.guild.me
        permissions = channel.permissions_for(me)
        if not (permissions.connect and permissions.speak):
            raise BotError(f"I'm not allowed to connect and speak in {channel.mention}.")
        if channel.user_limit and len(channel.members) >= channel.user_limit and not permissions.move_members:
            raise BotError(f"{channel.mention} is full.")
        existing = self.player(member.guild.id)
        if existing is not None:
            voice_client = member.guild.voice_client
            if isinstance(voice_client, discord.VoiceClient) and voice_client.channel != channel:
                await voice_client.move_to(channel)
            return existing
        try:
            connection: discord.VoiceClient = await channel.connect(self_deaf=True)
        except (discord.ClientException, TimeoutError, discord.ConnectionClosed) as exc:
            log.warning("Could not join voice channel %s: %r", channel.id, exc)
            raise BotError(f"I couldn't join {channel.mention}. Try again in a moment.") from exc
        player = GuildPlayer(connection, self.engine, self.idle_seconds)
        self.players[member.guild.id] = player
        return player

    async def speak_anywhere(self, text: str, persona: Persona) -> None:
        """The seed API's speech hook: it knows no server, so it speaks where the bot most recently joined voice."""
        connected = [p for guild_id in list(self.players) if (p := self.player(guild_id)) is not None]
        if not connected:
            log.warning("Speech was asked for, but the bot is in no voice channel")
            return
        answer_id = next(self._seed_ids)
        for sentence in sentences(speakable(text)):
            connected[-1].say(answer_id, sentence, persona.voice)

    async def leave(self, guild_id: int) -> bool:
        player = self.players.pop(guild_id, None)
        if player is None:
            return False
        await player.close()
        return True

    async def close(self) -> None:
        for guild_id in list(self.players):
            await self.leave(guild_id)
