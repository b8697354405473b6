"""A voice call for tests and the bench: the bot's real voice client joined to the local voice server, listening
through the real VAD and faster-whisper, answering through the real pipeline (an API model on the chat stand-in,
a migrated SQLite file) and speaking with espeak-ng."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.answers.limits import GuildGate
from bot.answers.service import AnswerService
from bot.db.database import Database
from bot.discord_ui.layouts import ClassicLayout
from bot.discord_ui.voice_asking import VoiceAsking
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.generation.registry import ModelRegistry
from bot.services.conversation import ConversationService
from bot.services.cooldowns import SharedCooldowns
from bot.streaming.pacing import PacerRegistry
from bot.voice.engines import EspeakEngine
from bot.voice.listening import Listening
from bot.voice.player import GuildPlayer
from bot.voice.receive.client import ListeningVoiceClient
from bot.voice.stt import Transcriber
from bot.voice.vad import SileroModel
from bot.voice.wake import Mode
from tests.standins.chat_server import ChatServer
from tests.standins.voice_server import StandinGuild, VoiceServer, standin_channel, standin_client

MEMBERS = {42: "Bob", 43: "Eve", 44: "Cy", 45: "Di", 46: "Al"}
_ids = itertools.count(1)


@dataclass
class Posted:
    """A message in the voice channel's chat."""

    content: str
    channel: Any
    id: int = field(default_factory=lambda: next(_ids))
    edits: list[str] = field(default_factory=list)

    async def reply(self, content: str, **kwargs: Any) -> Posted:
        return await self.channel.send(content, **kwargs)

    async def edit(self, content: str | None = None, **kwargs: Any) -> None:
        if content is not None:
            self.content = content
            self.edits.append(content)

    async def delete(self) -> None:
        self.channel.posted.remove(self)


class VoiceChat:
    """The voice channel's text chat (Discord's REST at the edge)."""

    def __init__(self, guild: StandinGuild) -> None:
        self.id, self.guild, self.posted = 20, guild, list[Posted]()
        self.guild.get_member = lambda member_id: SimpleNamespace(display_name=MEMBERS.get(member_id, "?"))  # type: ignore[attr-defined]
        self.changed = asyncio.Event()

    async def send(self, content: str, **kwargs: Any) -> Posted:
        message = Posted(content, self)
        self.posted.append(message)
        return message

    def texts(self) -> list[str]:
        return [m.content for m in self.posted]


async def until(condition: Callable[[], bool], seconds: float) -> None:
    """Poll a condition set from threads and callbacks (there is no event to wait on), for at most `seconds`."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@dataclass
class Call:
    server: VoiceServer
    client: ListeningVoiceClient
    player: GuildPlayer
    listening: Listening
    chat: VoiceChat
    answers: AnswerService

    async def ask(self, member_id: int, frames: Sequence[bytes]) -> float:
        """The member says something; returns when their last packet went."""
        return await self.server.speak(member_id * 10, frames)

    async def settled(self) -> None:
        """Wait until nothing is being heard, transcribed, answered or spoken."""
        await asyncio.sleep(0.8)  # end-of-turn silence plus a margin
        await until(lambda: not (self.listening.busy() or self.answers.running() or self.player.speaking()), 30.0)


@asynccontextmanager
async def voice_call(
    tmp_path: Path,
    chat_server: ChatServer,
    vad: SileroModel,
    stt: Transcriber,
    mode: Mode = "always",
    names: Sequence[str] = ("computer",),
    model: str = "ok",
) -> AsyncIterator[Call]:
    server = await VoiceServer().start()
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    guild = StandinGuild(server)
    client = ListeningVoiceClient(standin_client(asyncio.get_running_loop()), standin_channel(guild))
    guild.voice_client = client
    player: GuildPlayer | None = None
    listening: Listening | None = None
    try:
        await client.connect(timeout=10, reconnect=False)
        registry = ModelRegistry(model)
        registry.register(HFApiBackend(model, ApiConfig(base_url=chat_server.url, token="hf_test", max_retries=0)))
        answers = AnswerService(
            ConversationService(database, registry), PacerRegistry(), SharedCooldowns(database, 0), GuildGate(4)
        )
        player = GuildPlayer(client, EspeakEngine())
        chat = VoiceChat(guild)

        async def wake_names() -> Sequence[str]:
            return names

        asking = VoiceAsking(answers, chat, player, None, [], ClassicLayout())
        listening = Listening(client, player, vad, stt, asking, wake_names, mode)
        listening.start()
        for member_id in MEMBERS:
            await server.announce(member_id, member_id * 10)
        await asyncio.sleep(0.1)
        yield Call(server, client, player, listening, chat, answers)
    finally:
        if listening is not None:
            await listening.close()
        if player is not None:
            await player.close()
        if client.is_connected():
            await client.disconnect(force=True)
        await client._state.http.close()
        await server.stop()
        await database.close()
