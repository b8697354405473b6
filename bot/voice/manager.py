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
from bot.voice.hearing import Hearing
from bot.voice.listening import Answer, Listening, Names
from bot.voice.player import GuildPlayer
from bot.voice.receive.client import ListeningVoiceClient
from bot.voice.text_prep import sentences, speakable
from bot.voice.wake import Mode

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
        self.listenings: dict[int, Listening] = {}  # guilds where the bot listens, by guild id
        self.hearing: Hearing | None = None  # set by the composition root when listening is configured
        self.hearing_problem: str | None = "listening is switched off (LISTENING=false)"
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

    def use_hearing(self, hearing: Hearing) -> None:
        self.hearing = hearing
        self.hearing_problem = hearing.check()
        if self.hearing_problem:
            log.warning("Listening is unavailable (speaking keeps working): %s", self.hearing_problem)

    async def join(self, member: discord.Member) -> GuildPlayer:
        """Join (or move to) the member's voice channel; raise a BotError saying why not. Where listening can
        work, the connection is the listening client (deafened until listening starts)."""
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
            kind = (
                ListeningVoiceClient if self.hearing is not None and not self.hearing_problem else discord.VoiceClient
            )
            connection: discord.VoiceClient = await channel.connect(self_deaf=True, cls=kind)
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

    def listening(self, guild_id: int) -> Listening | None:
        return self.listenings.get(guild_id) if self.player(guild_id) is not None else None

    async def listen(self, guild_id: int, answer: Answer, names: Names, mode: Mode) -> Listening:
        """Start (or restart, with a new mode) listening where the bot is in voice; undeafens the bot."""
        if self.hearing is None or self.hearing_problem:
            raise BotError(f"Listening is not available on this bot: {self.hearing_problem}.")
        player = self.player(guild_id)
        if player is None:
            raise BotError("I'm not in a voice channel here.")
        client = player.connection
        if not isinstance(client, ListeningVoiceClient):
            raise BotError("I joined this voice channel before listening was possible; `/voice leave` and join again.")
        await self.stop_listening(guild_id, deafen=False)
        listening = Listening(client, player, self.hearing.vad(), self.hearing.stt, answer, names, mode)
        listening.start()
        self.listenings[guild_id] = listening
        player.listening = True
        await self._deafen(client, False)
        return listening

    async def stop_listening(self, guild_id: int, deafen: bool = True) -> bool:
        listening = self.listenings.pop(guild_id, None)
        if listening is None:
            return False
        await listening.close()
        listening.player.listening = False
        if deafen and listening.client.is_connected():
            await self._deafen(listening.client, True)
        return True

    @staticmethod
    async def _deafen(client: discord.VoiceClient, deaf: bool) -> None:
        try:
            await client.channel.guild.change_voice_state(channel=client.channel, self_deaf=deaf)
        except (discord.ClientException, discord.ConnectionClosed, AttributeError) as exc:
            log.warning("Could not %s in voice: %r", "deafen" if deaf else "undeafen", exc)

    async def leave(self, guild_id: int) -> bool:
        await self.stop_listening(guild_id, deafen=False)  # leaving stops listening
        player = self.players.pop(guild_id, None)
        if player is None:
            return False
        await player.close()
        return True

    async def close(self) -> None:
        for guild_id in list(self.players):
            await self.leave(guild_id)
